"""Add outbox rows in the caller's transaction: the one way anything asks for a notification.

The routing writer, claims, reassignments and the SLA watch call `notifications_add` with
every event of their transaction at once. On Postgres that is one statement whatever the
number of events: the notices go in as arrays and the database matches them to the active
channels and the reps' (and managers') addresses and inserts the rows. Elsewhere two reads
and one bulk insert. Nothing is rendered here: bodies and e-mails are rendered when sent.
After commit one job dispatches them (jobs.py); Redis down never fails the caller: the sweep
sends what no job took.

Imports only models: routing imports this module, never the other way round.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial

from django.db import connection, transaction

from notifications.models import Channel, Delivery, Event
from reps.models import Rep

logger = logging.getLogger(__name__)

DELIVERY_COLUMNS = (
    "id",
    "event",
    "lead_id",
    "rep_id",
    "rule_name",
    "decided_at",
    "sla_due_at",
    "at",
    "channel_id",
    "email",
    "status",
    "attempts",
    "next_attempt_at",
    "last_answer",
    "created_at",
)
MAILED = {Event.ASSIGNED, Event.SLA_BREACHED}


@dataclass(frozen=True, slots=True)
class Notice:
    """One event about one lead. team_id: the owner's team (or the pool's), for channels limited to a team."""

    event: str
    lead_id: int
    rep_id: int | None = None
    team_id: int | None = None
    rule_name: str = ""
    decided_at: dt.datetime | None = None
    sla_due_at: dt.datetime | None = None


def notifications_add(*, notices: Sequence[Notice], at: dt.datetime) -> int:
    """Write one Delivery per receiver of each notice (webhook channels, the rep's e-mail, the
    manager's on a breach) in the current transaction; dispatch them after commit. Returns the
    number of deliveries written."""
    if not notices:
        return 0
    if connection.vendor == "postgresql":
        added = _insert_matched(notices, at)
        hooks = [str(i) for i, is_mail in added if not is_mail]
        mails = [str(i) for i, is_mail in added if is_mail]
    else:
        hooks, mails = _add_rows(notices, at)
    if hooks or mails:
        transaction.on_commit(partial(_dispatch, hooks, mails))
    return len(hooks) + len(mails)


def _add_rows(notices: Sequence[Notice], at: dt.datetime) -> tuple[list[str], list[str]]:
    """Match in Python and bulk-insert (databases other than Postgres)."""
    channels = list(Channel.objects.filter(active=True).only("id", "events", "team_id"))
    mailed = {n.rep_id for n in notices if n.rep_id and n.event in MAILED}
    addresses = {}  # rep id -> (rep's address or "", manager's address or "")
    if mailed:
        for rep_id, email, notify, manager in Rep.objects.filter(id__in=mailed).values_list(
            "id", "email", "notify_email", "team__manager__email"
        ):
            addresses[rep_id] = (email if notify else "", manager or "")
    rows, hooks, mails = [], [], []
    for n in notices:
        base = (n.event, n.lead_id, n.rep_id, n.rule_name[:120], n.decided_at or at, n.sla_due_at, at)
        for channel in channels:
            if channel.wants(n.event, n.team_id):
                rows.append((uuid.uuid4(), *base, channel.id, ""))
                hooks.append(rows[-1][0])
        rep_mail, manager_mail = addresses.get(n.rep_id, ("", ""))
        to = [rep_mail] if n.event == Event.ASSIGNED else [rep_mail, manager_mail]
        for address in dict.fromkeys(a for a in to if a):
            rows.append((uuid.uuid4(), *base, None, address))
            mails.append(rows[-1][0])
    if rows:
        rows = [(*row, Delivery.Status.PENDING, 0, at, "", at) for row in rows]
        Delivery.objects.bulk_create([Delivery(**dict(zip(DELIVERY_COLUMNS, row, strict=True))) for row in rows])
    return [str(i) for i in hooks], [str(i) for i in mails]


# One statement per transaction: the notices as arrays, matched here to the active channels
# (events, team) and to the rep's address (notify_email) and, on a breach, the team manager's;
# the same address twice for one notice is one e-mail. Ids are made by the database.
_MATCH_SQL = """
WITH n AS (
    SELECT * FROM unnest(%(event)s::varchar[], %(lead)s::bigint[], %(rep)s::bigint[], %(team)s::bigint[],
                         %(rule)s::varchar[], %(decided)s::timestamptz[], %(due)s::timestamptz[])
        WITH ORDINALITY AS n(event, lead_id, rep_id, team_id, rule_name, decided_at, sla_due_at, ord)
), receivers AS (
    SELECT n.event, n.lead_id, n.rep_id, n.rule_name, n.decided_at, n.sla_due_at, c.id AS channel_id, '' AS email
    FROM n JOIN {channel} c ON c.active
        AND (c.events = '[]'::jsonb OR c.events ? n.event)
        AND (c.team_id IS NULL OR c.team_id = n.team_id)
    UNION ALL
    SELECT DISTINCT ON (n.ord, a.email)
        n.event, n.lead_id, n.rep_id, n.rule_name, n.decided_at, n.sla_due_at, NULL::bigint, a.email
    FROM n JOIN {rep} r ON r.id = n.rep_id
        LEFT JOIN {team} t ON t.id = r.team_id
        LEFT JOIN {user} m ON m.id = t.manager_id
        CROSS JOIN LATERAL (VALUES (CASE WHEN r.notify_email THEN r.email END),
                                   (CASE WHEN n.event = %(breached)s THEN m.email END)) AS a(email)
    WHERE n.event = ANY(%(mailed)s) AND a.email <> ''
)
INSERT INTO {delivery} ({columns})
SELECT gen_random_uuid(), event, lead_id, rep_id, rule_name, decided_at, sla_due_at, %(at)s, channel_id, email,
       %(pending)s, 0, %(at)s, '', %(at)s
FROM receivers
RETURNING id, channel_id IS NULL
"""


def _insert_matched(notices: Sequence[Notice], at: dt.datetime) -> list[tuple]:
    team = Rep._meta.get_field("team").related_model
    q = connection.ops.quote_name
    sql = _MATCH_SQL.format(
        channel=q(Channel._meta.db_table),
        rep=q(Rep._meta.db_table),
        team=q(team._meta.db_table),
        user=q(team._meta.get_field("manager").related_model._meta.db_table),
        delivery=q(Delivery._meta.db_table),
        columns=", ".join(DELIVERY_COLUMNS),
    )
    params = {
        "event": [n.event for n in notices],
        "lead": [n.lead_id for n in notices],
        "rep": [n.rep_id for n in notices],
        "team": [n.team_id for n in notices],
        "rule": [n.rule_name[:120] for n in notices],
        "decided": [n.decided_at or at for n in notices],
        "due": [n.sla_due_at for n in notices],
        "at": at,
        "pending": Delivery.Status.PENDING,
        "breached": Event.SLA_BREACHED,
        "mailed": [str(e) for e in MAILED],
    }
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _dispatch(hook_ids: list[str], mail_ids: list[str]) -> None:
    from notifications.jobs import enqueue_dispatch

    enqueue_dispatch(hook_ids, mail_ids)
