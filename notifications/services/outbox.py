"""Add outbox rows in the caller's transaction: the one way anything asks for a notification.

The routing writer, claims, reassignments and the SLA watch call `notifications_add` with
every event of their transaction at once: two reads (active channels; the reps' addresses)
and one bulk insert, whatever the number of events. After commit one job dispatches them
(jobs.py); Redis down never fails the caller: the sweep sends what no job took.

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
    if not rows:
        return 0
    _insert([(*row, Delivery.Status.PENDING, 0, at, "", at) for row in rows])
    transaction.on_commit(partial(_dispatch, [str(i) for i in hooks], [str(i) for i in mails]))
    return len(rows)


def _insert(rows: list[tuple]) -> None:
    """COPY on Postgres (a routing batch may bring thousands of rows); bulk_create elsewhere."""
    if connection.vendor != "postgresql":
        Delivery.objects.bulk_create([Delivery(**dict(zip(DELIVERY_COLUMNS, row, strict=True))) for row in rows])
        return
    table = connection.ops.quote_name(Delivery._meta.db_table)
    with connection.cursor() as cursor, connection.wrap_database_errors:
        with cursor.cursor.copy(f"COPY {table} ({', '.join(DELIVERY_COLUMNS)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)


def _dispatch(hook_ids: list[str], mail_ids: list[str]) -> None:
    from notifications.jobs import enqueue_dispatch

    enqueue_dispatch(hook_ids, mail_ids)
