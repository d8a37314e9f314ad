"""Store incoming leads once, whoever sends them (API, bulk API, admin, file import), then route them.

Deduplication relies on the database: `lead_source_external_id_unique` (source, external_id
where external_id is set). A batch first looks up the keys it carries in one query, inserts
the rest in one `bulk_create` inside a savepoint and, if a concurrent writer got there first
(IntegrityError), retries item by item, each in its own savepoint, fetching the winner's row.
Two identical posts racing therefore give one lead: one `created`, one `duplicate` of it.
A single lead skips the look-up: it is inserted at once and a taken key is read back.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from leadops.errors import IntakeConflict, IntakeError, IntakeForbidden
from leadops.models import Integration, Lead
from leadops.prepared import fetchone_prepared
from leadops.selectors import lead_get, lead_keys_stored
from leadops.services.normalise import lead_input_clean
from routing.services import leads_enqueue_routing

CREATED = "created"
DUPLICATE = "duplicate"
ERROR = "error"
BULK_MAX_ITEMS = 1000
COPY_FROM = 100  # batches this big go in by COPY on Postgres


@dataclass(frozen=True, slots=True)
class ItemResult:
    """What became of one input item; `conflict` marks an error that clashes with stored data."""

    index: int
    status: str
    lead_id: int | None = None
    errors: dict[str, list[str]] | None = None
    conflict: bool = False
    lead: Lead | None = field(default=None, compare=False, repr=False)  # when the insert built it

    def as_dict(self) -> dict[str, Any]:
        if self.status == ERROR:
            return {"index": self.index, "status": self.status, "errors": self.errors}
        return {"index": self.index, "status": self.status, "id": self.lead_id}


def _other_integrations_key(index: int) -> ItemResult:
    return ItemResult(
        index,
        ERROR,
        conflict=True,
        errors={
            "external_id": [
                "This source and external_id are taken by a lead this integration did not send; "
                "use another external_id."
            ]
        },
    )


def _resolved(
    index: int, lead_id: int, owner_integration_id: int | None, integration: Integration | None, status: str
) -> ItemResult:
    if integration is not None and owner_integration_id != integration.pk:
        return _other_integrations_key(index)
    return ItemResult(index, status, lead_id=lead_id)


def _insert_one(index: int, facts: dict, integration: Integration | None) -> ItemResult:
    """Insert one lead; when its key is taken, answer with the stored lead instead.

    Outside a transaction the INSERT runs on its own in autocommit: one round trip that
    commits, instead of BEGIN, INSERT, COMMIT (routing is then enqueued at once, after that
    commit). On Postgres it is one written-out `INSERT … ON CONFLICT DO NOTHING RETURNING id`
    (no ORM compile, no exception for a repeat, and a repeat breaks no caller's transaction);
    elsewhere, inside the caller's transaction, the ORM insert runs in a savepoint, so a
    duplicate key does not break that transaction.
    """
    if connection.vendor == "postgresql":
        lead = _insert_returning(facts, integration)
        if lead is not None:
            leads_enqueue_routing([lead.pk], coalesce=True)
            return ItemResult(index, CREATED, lead_id=lead.pk, lead=lead)
        return _stored_instead(index, facts, integration)
    try:
        if connection.in_atomic_block:
            with transaction.atomic():
                lead = Lead.objects.create(integration=integration, **facts)
        else:
            lead = Lead.objects.create(integration=integration, **facts)
        leads_enqueue_routing([lead.pk], coalesce=True)
        return ItemResult(index, CREATED, lead_id=lead.pk, lead=lead)
    except IntegrityError:
        if facts["external_id"] is None:
            raise
        return _stored_instead(index, facts, integration)


def _stored_instead(index: int, facts: dict, integration: Integration | None) -> ItemResult:
    """The lead stored under this key already (by an earlier post or a racing one)."""
    row = (
        Lead.objects.filter(source=facts["source"], external_id=facts["external_id"])
        .values_list("id", "integration_id")
        .first()
    )
    if row is None:  # cannot happen: the key was taken by a committed row
        raise IntegrityError(f"lead {facts['source']!r}/{facts['external_id']!r} conflicted but is not stored")
    return _resolved(index, row[0], row[1], integration, DUPLICATE)


class _LeadRow:
    """Every Lead column but the id, in model order, with what an INSERT of cleaned facts puts in it."""

    def __init__(self):
        fields = [f for f in Lead._meta.concrete_fields if not f.primary_key]
        self.names = [f.attname for f in fields]
        self.defaults = [
            None if f.attname in ("integration_id", "created_at", "updated_at") else f.get_default() for f in fields
        ]
        table = connection.ops.quote_name(Lead._meta.db_table)
        columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
        self.insert_sql = (
            f"INSERT INTO {table} ({columns}) VALUES ({', '.join(['%s'] * len(fields))}) "
            f"ON CONFLICT (source, external_id) WHERE external_id IS NOT NULL DO NOTHING RETURNING id"
        )
        self.at = {name: i for i, name in enumerate(self.names)}


_lead_row: _LeadRow | None = None


def _insert_returning(facts: dict, integration: Integration | None) -> Lead | None:
    """Postgres: insert the lead, or nothing when (source, external_id) is stored; the new Lead or None."""
    from psycopg.types.json import Jsonb

    global _lead_row
    plan = _lead_row = _lead_row or _LeadRow()
    now = timezone.now()
    values = [facts.get(name, default) for name, default in zip(plan.names, plan.defaults, strict=False)]
    values[plan.at["integration_id"]] = integration.pk if integration is not None else None
    values[plan.at["created_at"]] = values[plan.at["updated_at"]] = now
    extra_at = plan.at["extra"]
    extra = facts.get("extra") or {}
    values[extra_at] = Jsonb(extra)
    row = fetchone_prepared(plan.insert_sql, values)
    if row is None:
        return None
    values[extra_at] = extra
    lead = Lead.from_db(connection.alias, ["id", *plan.names], [row[0], *values])
    lead.integration = integration
    return lead


def _copy_rows(entries: list[tuple[int, dict]], integration: Integration | None) -> list[int]:
    """Postgres: take ids from the sequence, then COPY the rows in (several times faster than INSERT)."""
    from psycopg.types.json import Jsonb

    now = timezone.now()
    fields = Lead._meta.concrete_fields
    fixed = {"integration_id": integration.pk if integration else None, "created_at": now, "updated_at": now}
    # Per column: (fact name, default) read from the facts, or (None, value) for every row.
    plan = [(None, fixed[f.attname]) if f.attname in fixed else (f.attname, f.get_default()) for f in fields]
    id_at, extra_at = (next(i for i, f in enumerate(fields) if f.attname == name) for name in ("id", "extra"))
    table, columns = Lead._meta.db_table, ", ".join(f'"{f.column}"' for f in fields)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT nextval(pg_get_serial_sequence('{table}', 'id')) FROM generate_series(1, %s)", [len(entries)]
        )
        ids = [row[0] for row in cursor.fetchall()]
        with cursor.cursor.copy(f'COPY "{table}" ({columns}) FROM STDIN') as copy:
            for lead_id, (_, facts) in zip(ids, entries, strict=False):
                row = [value if name is None else facts.get(name, value) for name, value in plan]
                row[id_at], row[extra_at] = lead_id, Jsonb(row[extra_at])
                copy.write_row(row)
    return ids


def _insert(entries: list[tuple[int, dict]], integration: Integration | None) -> list[ItemResult]:
    """Insert new leads in one statement and hand them to routing on commit; on a race, one by one."""
    if not entries:
        return []
    # One order for every writer, so two racing batches never wait on each other in a cycle.
    entries.sort(key=lambda e: (e[1]["external_id"] is None, e[1]["source"], e[1]["external_id"] or ""))
    try:
        with transaction.atomic():
            if len(entries) >= COPY_FROM and connection.vendor == "postgresql":
                ids = _copy_rows(entries, integration)
                results = [
                    ItemResult(index, CREATED, lead_id=lead_id)
                    for (index, _), lead_id in zip(entries, ids, strict=False)
                ]
            else:
                leads = Lead.objects.bulk_create([Lead(integration=integration, **facts) for _, facts in entries])
                results = [
                    ItemResult(index, CREATED, lead_id=lead.pk, lead=lead)
                    for (index, _), lead in zip(entries, leads, strict=False)
                ]
            leads_enqueue_routing([r.lead_id for r in results], coalesce=True)
        return results
    except (IntegrityError, *_copy_conflicts()):
        return [_insert_one(index, facts, integration) for index, facts in entries]


def _copy_conflicts() -> tuple[type[Exception], ...]:
    try:
        from psycopg.errors import IntegrityError as PsycopgIntegrityError
    except ImportError:  # SQLite-only installs
        return ()
    return (PsycopgIntegrityError,)


def leads_store(*, entries: Sequence[tuple[int, dict]], integration: Integration | None = None) -> list[ItemResult]:
    """Store cleaned facts (from `lead_input_clean`) once; results in the order of `entries`.

    An item whose (source, external_id) is stored already, or came earlier in the same
    batch, is a `duplicate` with the first lead's id. Created leads go to routing on commit.
    """
    if len(entries) == 1:
        # One lead (the single-lead API): insert straight away; the unique key catches a repeat,
        # which then costs a failed INSERT and a look-up instead of a look-up before every insert.
        index, facts = entries[0]
        return [_insert_one(index, facts, integration)]
    results: dict[int, ItemResult] = {}
    first_index: dict[tuple[str, str], int] = {}
    repeats: list[tuple[int, tuple[str, str]]] = []
    to_create: list[tuple[int, dict]] = []
    facts_at: dict[int, dict] = {}
    for index, facts in entries:
        if facts["external_id"] is None:
            to_create.append((index, facts))
            continue
        key = (facts["source"], facts["external_id"])
        if key in first_index:
            repeats.append((index, key))
        else:
            first_index[key] = index
            facts_at[index] = facts
    existing = lead_keys_stored(first_index)
    for key, index in first_index.items():
        if key in existing:
            lead_id, owner_integration_id = existing[key]
            results[index] = _resolved(index, lead_id, owner_integration_id, integration, DUPLICATE)
        else:
            to_create.append((index, facts_at[index]))
    for result in _insert(to_create, integration):
        results[result.index] = result
    for index, key in repeats:
        first = results[first_index[key]]
        results[index] = ItemResult(
            index,
            first.status if first.status == ERROR else DUPLICATE,
            lead_id=first.lead_id,
            errors=first.errors,
            conflict=first.conflict,
        )
    return [results[index] for index, _ in entries]


def leads_create_bulk(
    *, items: Sequence[Any], integration: Integration | None = None, default_source: str, strict: bool = True
) -> list[ItemResult]:
    """Clean and store each item; valid items are stored even when others fail."""
    if len(items) > BULK_MAX_ITEMS:
        raise IntakeError({"non_field_errors": [f"At most {BULK_MAX_ITEMS:,} leads per call (got {len(items):,})."]})
    results: dict[int, ItemResult] = {}
    entries: list[tuple[int, dict]] = []
    for index, item in enumerate(items):
        facts, errors = lead_input_clean(item, default_source=default_source, strict=strict)
        if not errors:
            errors = _source_errors(facts, integration)
        if errors:
            results[index] = ItemResult(index, ERROR, errors=errors)
        else:
            entries.append((index, facts))
    for result in leads_store(entries=entries, integration=integration):
        results[result.index] = result
    return [results[index] for index in range(len(items))]


def lead_input_checked(*, data: Any, integration: Integration | None, default_source: str) -> dict[str, Any]:
    """One lead's cleaned facts, which this caller may post; raises IntakeError (bad input) or IntakeForbidden."""
    facts, errors = lead_input_clean(data, default_source=default_source)
    if errors:
        raise IntakeError(errors)
    source_errors = _source_errors(facts, integration)
    if source_errors:
        raise IntakeForbidden(source_errors)
    return facts


def lead_create(*, data: Any, integration: Integration | None = None, default_source: str) -> tuple[Lead, bool]:
    """Store one lead; return (lead, created). Raises IntakeError (bad input) or IntakeConflict.

    A created lead is returned as inserted (pending, no owner); a duplicate is read back.
    """
    facts = lead_input_checked(data=data, integration=integration, default_source=default_source)
    result = leads_store(entries=[(0, facts)], integration=integration)[0]
    if result.status == ERROR:
        raise (IntakeConflict if result.conflict else IntakeError)(result.errors)
    if result.status == CREATED and result.lead is not None:
        result.lead.current_assignments = []  # just inserted: routing decides after commit
        return result.lead, True
    return lead_get(lead_id=result.lead_id), result.status == CREATED


def integration_source(integration: Integration) -> str:
    """The `source` of an integration's lead when the client sends none: the integration's name."""
    return integration.sources[0]


def _source_errors(facts: dict, integration: Integration | None) -> dict[str, list[str]]:
    """An integration posts only under its own sources (its name, and those ops gave it in the admin)."""
    if integration is None or facts["source"] in integration.sources:
        return {}
    allowed = ", ".join(f"“{source}”" for source in integration.sources)
    return {
        "source": [
            f"This integration may post only under its own sources: {allowed}. "
            "Leave `source` out to use its name; ops can give it more sources in the admin."
        ]
    }


def lead_facts_update(*, lead: Lead, facts: dict[str, Any]) -> Lead:
    """Correct a stored lead's facts (cleaned by `lead_input_clean`); its routing is left as it is."""
    for name, value in facts.items():
        setattr(lead, name, value)
    lead.save(update_fields=[*facts, "updated_at"])
    return lead
