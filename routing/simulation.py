"""Simulation: what a draft set-up (or a stored version, or the current one) would have done
with the leads of a period, next to what really happened. It writes nothing.

`routing_simulate` replays the period's leads through routing/replay.py (the same engine the
router runs) and compares each lead's simulated first decision with its first Assignment.
On PostgreSQL it runs in a read-only transaction that is rolled back at the end.
"""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.utils import timezone

from leadops.models import Lead, LeadStatus
from reps.models import Rep
from routing.engine import ASSIGNED, POOLED, UNROUTABLE, LeadFacts, RoutingEngine
from routing.models import Assignment, RoutingVersion
from routing.reasons import reason_summary
from routing.replay import Replay, ReplaySetup, ReplayStart
from routing.routing_file import RoutingFileError, routing_config_check, routing_config_dump
from routing.services.snapshot import LEAD_FACT_COLUMNS, routing_snapshot_load
from routing.versions import version_document

CHANGED_SHOWN = 100
DEFAULT_DAYS = 30
FACTS = LEAD_FACT_COLUMNS.index("status")
CLOSED = (LeadStatus.CONVERTED, LeadStatus.LOST)


@dataclass
class SimulationTimings:
    loading: float = 0.0
    deciding: float = 0.0
    comparing: float = 0.0


@dataclass
class Simulation:
    result: dict  # the contract's object (simulate_routing --json)
    timings: SimulationTimings = field(default_factory=SimulationTimings)
    never_fired: list[str] = field(default_factory=list)  # active rules of the set-up that decided no lead


def simulation_period(start: dt.date | None, end: dt.date | None) -> tuple[dt.date, dt.date]:
    """Default: the last 30 days, today included (server zone)."""
    end = end or timezone.localdate()
    return start or end - dt.timedelta(days=DEFAULT_DAYS - 1), end


def _bounds(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    zone = timezone.get_current_timezone()
    return (
        dt.datetime.combine(start, dt.time(), tzinfo=zone),
        dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), tzinfo=zone),
    )


def routing_simulate(
    *,
    draft: dict | None = None,
    version: int | None = None,
    start: dt.date | None = None,
    end: dt.date | None = None,
    source: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Simulation:
    """Replay the period's leads under `draft` (a routing document), version N, or the current set-up.

    Raises RoutingFileError when the draft (or version) does not validate. Writes nothing: on
    PostgreSQL inside `SET TRANSACTION READ ONLY`, always rolled back.
    """
    start, end = simulation_period(start, end)
    with _read_only():
        return _simulate(draft, version, start, end, source, progress)


@contextmanager
def _read_only() -> Iterator[None]:
    """A transaction that cannot write (PostgreSQL: SET TRANSACTION READ ONLY) and is rolled back.

    Inside an outer transaction it is a savepoint; rolling it back undoes the read-only setting."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION READ ONLY")
        try:
            yield
        finally:
            transaction.set_rollback(True)


def _setup(draft: dict | None, version: int | None) -> ReplaySetup:
    if version is not None:
        document = version_document(version)
        if document is None:
            raise RoutingFileError([f"v{version}: there is no such routing version"])
        settings = RoutingVersion.objects.values_list("settings", flat=True).get(number=version)
        return ReplaySetup.from_document(
            document, existing_owner_first=settings.get("existing_owner_first"), version=version
        )
    if draft is not None:
        return ReplaySetup.from_document(_draft_document(draft))
    return ReplaySetup.from_document(routing_config_dump())


def _draft_document(draft: dict) -> dict:
    """A draft file as the set-up it would make: checked like load_routing, laid over the current one
    (what the file leaves out stays; rules it does not name are off, as a load would make them)."""
    checked = routing_config_check(draft)
    current = routing_config_dump()
    out = {}
    for section, key in (("skills", None), ("teams", "name"), ("territories", "name"), ("reps", "email")):
        entries = {(e if key is None else e[key]): e for e in current[section]}
        for name, entry in checked[section].items():
            entries[name] = entry
        out[section] = list(entries.values())
    rules = {r["name"]: {**r, "active": False} for r in current["rules"]}
    rules.update(checked["rules"])
    out["rules"] = list(rules.values())
    return out


def _leads(start_at, end_at, source):
    leads = Lead.objects.filter(created_at__gte=start_at, created_at__lt=end_at)
    if source:
        leads = leads.filter(source=source)
    return leads


def _simulate(draft, version, start, end, source, progress) -> Simulation:
    timings = SimulationTimings()
    began = time.perf_counter()
    start_at, end_at = _bounds(start, end)
    setup = _setup(draft, version)
    rows = list(
        _leads(start_at, end_at, source)
        .order_by("created_at", "id")
        .values_list(*LEAD_FACT_COLUMNS[:FACTS], "created_at", "status", "closed_at")
    )
    emails = {row[1] for row in rows if row[1]} if setup.existing_owner_first else set()
    state = ReplayStart.load(at=start_at, emails=emails | {e.lower() for e in emails})
    replay = Replay(setup, state, until=end_at)
    timings.loading = time.perf_counter() - began

    began = time.perf_counter()
    simulated = {}
    total = len(rows)
    for n, row in enumerate(rows):
        facts = LeadFacts(*row[:FACTS])
        created_at, status, closed_at = row[FACTS:]
        decision = replay.decide(facts, at=created_at, closes_at=closed_at if status in CLOSED else None)
        simulated[facts.id] = decision
        if progress is not None and n % 2000 == 0:
            progress(n, total)
    timings.deciding = time.perf_counter() - began

    began = time.perf_counter()
    result = _compare(setup, simulated, start_at, end_at, source, start, end)
    timings.comparing = time.perf_counter() - began
    fired = {r["name"] for r in result["rules"] if r["simulated"]}
    never = [r.name for r in setup.rules if r.active and r.name not in fired]
    return Simulation(result=result, timings=timings, never_fired=never)


def _first_decisions(start_at, end_at, source) -> dict[int, tuple]:
    """Each period lead's first Assignment: (outcome, rep id, rule name)."""
    qs = Assignment.objects.filter(lead__created_at__gte=start_at, lead__created_at__lt=end_at)
    if source:
        qs = qs.filter(lead__source=source)
    first = {}
    for lead_id, outcome, rep_id, rule_name in qs.order_by("lead_id", "created_at", "id").values_list(
        "lead_id", "outcome", "rep_id", "rule_name"
    ):
        first.setdefault(lead_id, (outcome, rep_id, rule_name))
    return first


def _compare(setup: ReplaySetup, simulated: dict, start_at, end_at, source, start, end) -> dict:
    actual = _first_decisions(start_at, end_at, source)
    emails = dict(Rep.objects.values_list("id", "email"))
    emails.update(setup.rep_email)
    reps, rules = Counter(), Counter()
    outcomes = {"unroutable": Counter(), "pooled": Counter()}
    changed, changed_owner = [], 0
    for lead_id, decision in simulated.items():
        outcome, rep_id, rule_name = actual.get(lead_id, (None, None, ""))
        actual_rep = emails.get(rep_id) if rep_id else None
        simulated_rep = setup.rep_email.get(decision.rep_id) if decision.outcome == ASSIGNED else None
        simulated_rule = setup.rule_name.get(decision.rule_id) if decision.rule_id else None
        reps[(actual_rep, "actual")] += actual_rep is not None
        reps[(simulated_rep, "simulated")] += simulated_rep is not None
        if rule_name:
            rules[(rule_name, "actual")] += 1
        if simulated_rule:
            rules[(simulated_rule, "simulated")] += 1
        for name in (UNROUTABLE, POOLED):
            outcomes[name]["actual"] += outcome == name
            outcomes[name]["simulated"] += decision.outcome == name
        if actual_rep != simulated_rep:
            changed_owner += 1
            if len(changed) < CHANGED_SHOWN:
                changed.append(
                    {
                        "lead_id": lead_id,
                        "actual_rep": actual_rep,
                        "simulated_rep": simulated_rep,
                        "simulated_rule": simulated_rule,
                        "reason": reason_summary(decision.reason),
                    }
                )
    rep_names = sorted({name for name, _ in reps if name is not None})
    rule_names = sorted({name for name, _ in rules})
    return {
        "start": start.isoformat(),
        "end": end.isoformat(),
        "leads": len(simulated),
        "changed_owner": changed_owner,
        "reps": [{"email": e, "actual": reps[(e, "actual")], "simulated": reps[(e, "simulated")]} for e in rep_names],
        "rules": [
            {"name": n, "actual": rules[(n, "actual")], "simulated": rules[(n, "simulated")]} for n in rule_names
        ],
        "unroutable": {k: outcomes["unroutable"][k] for k in ("actual", "simulated")},
        "pooled": {k: outcomes["pooled"][k] for k in ("actual", "simulated")},
        "changed": changed,
    }


@dataclass
class LeadTrial:
    """What the set-up would do with one lead now: the engine's decision, named for people."""

    outcome: str
    rep_email: str | None
    rep_name: str | None
    rule_name: str | None
    reason: dict


def routing_try_lead(
    *, facts: LeadFacts, version: int | None = None, draft: dict | None = None, now: dt.datetime | None = None
) -> LeadTrial:
    """The decision the current set-up (or version N, or a draft) would make for `facts` now.

    The same snapshot the router loads (reps' open leads, today's counts, rotation cursors), the
    same engine; under a version or a draft their rules, territories and reps replace the
    current ones, with the live counters of the reps they share. Writes nothing (read-only on
    PostgreSQL, always rolled back).
    """
    now = now or timezone.now()
    with _read_only():
        snapshot, _ = routing_snapshot_load(now=now, leads=[facts])
        names = {r.id: r.name for r in snapshot.rules}
        emails = dict(Rep.objects.values_list("id", "email"))
        if version is not None or draft is not None:
            setup = _setup(draft, version)
            for rep in setup.reps.values():
                live = snapshot.reps.get(rep.id)
                if live is not None:
                    rep.open_leads, rep.assigned_today = live.open_leads, live.assigned_today
                    rep.last_assigned_at, rep.conversion_rate = live.last_assigned_at, live.conversion_rate
            snapshot.rules, snapshot.territories, snapshot.reps = setup.rules, setup.territories, setup.reps
            snapshot.settings.existing_owner_first = setup.existing_owner_first
            names, emails = setup.rule_name, {**emails, **setup.rep_email}
        decision = RoutingEngine(snapshot).decide(facts)
        rep = snapshot.reps.get(decision.rep_id) if decision.rep_id else None
        return LeadTrial(
            outcome=decision.outcome,
            rep_email=emails.get(decision.rep_id) if rep else None,
            rep_name=rep.name if rep else None,
            rule_name=names.get(decision.rule_id),
            reason=decision.reason,
        )


def simulation_figure(result: dict) -> dict:
    """Per rep, actual next to simulated first decisions: a plotly figure as a plain dict."""
    emails = [r["email"] for r in result["reps"]]
    bars = [
        {"type": "bar", "name": name, "x": emails, "y": [r[key] for r in result["reps"]], "marker": {"color": color}}
        for name, key, color in (("actual", "actual", "#9aa9b8"), ("simulated", "simulated", "#2f6fb0"))
    ]
    layout = {
        "barmode": "group",
        "height": 340,
        "margin": {"l": 50, "r": 20, "t": 10, "b": 120},
        "xaxis": {"automargin": True},
        "yaxis": {"title": {"text": "leads"}},
        "font": {"family": "system-ui, sans-serif", "size": 12},
    }
    return {"data": bars, "layout": layout}
