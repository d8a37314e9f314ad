"""Postgres advisory locks that keep routing correct with any number of workers.

Lock order, everywhere: lead rows first (each path locks only the leads it works on), then
the routing lock. The routing lock is never held while waiting for a lead row, so two
workers cannot deadlock. On SQLite (one writer at a time anyway) both are no-ops.
"""

from __future__ import annotations

from contextlib import contextmanager

from django.db import connection

# Arbitrary constants, unique to LeadOps within the database.
ROUTING_LOCK = 0x4C_4F_52_54  # decisions that read and move reps' load and rotation cursors
SWEEP_LOCK = 0x4C_4F_53_57  # route_pending: never two sweeps at once


def routing_lock_acquire() -> None:
    """Serialise deciding until the end of the current transaction.

    Decisions read open counts, daily counts and cursors and move them forward; holding
    this lock from the read to the commit means no two workers read the same pointer or the
    same spare capacity.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [ROUTING_LOCK])


@contextmanager
def sweep_lock():
    """Yield True when this process may sweep (a session lock: other sweeps skip, not wait)."""
    if connection.vendor != "postgresql":
        yield True
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [SWEEP_LOCK])
        acquired = cursor.fetchone()[0]
    try:
        yield acquired
    finally:
        if acquired:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [SWEEP_LOCK])
