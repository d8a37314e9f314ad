"""One statement run as a prepared statement on Postgres, for the statements every API post runs
(the key lookup, the lead insert). Django's psycopg cursors bind parameters on the client (the SQL
text is rebuilt in Python for each call, then parsed and planned by Postgres each time); here a
server-side-binding cursor prepares the statement once per connection (persistent connections,
DB_CONN_MAX_AGE) and then sends only the parameters. Measured in bench/intake.py (README).

The query still counts in DEBUG's connection.queries (and so in the tests' query counts).
"""

from __future__ import annotations

import time

from django.db import DEFAULT_DB_ALIAS, InterfaceError, OperationalError, connections


def fetchone_prepared(sql: str, params: list, *, checks_health: bool = False) -> tuple | None:
    """Run `sql` (with %s placeholders) prepared on this connection, in its current transaction; the first row.

    checks_health: the statement only reads, so when it is the first of a request on a reused connection it
    stands in for Django's health check (CONN_HEALTH_CHECKS), which would cost a `SELECT 1` round trip
    first: if the connection turns out dead, it is closed and the statement runs once more on a new one.
    A write never retries (it may have committed before the connection died) and takes the usual check.
    """
    db = connections[DEFAULT_DB_ALIAS]  # the proxy `connection` looks the thread's up on every attribute
    stands_in = (
        checks_health
        and db.connection is not None
        and db.health_check_enabled
        and not db.health_check_done
        and not db.in_atomic_block
    )
    if stands_in:
        db.health_check_done = True
    else:
        db.close_if_health_check_failed()  # as Django's own cursors do
    db.ensure_connection()
    started = time.monotonic()
    try:
        row = _fetchone(db, sql, params)
    except (OperationalError, InterfaceError):
        if not (stands_in and _connection_lost(db)):
            raise
        db.close()
        db.ensure_connection()
        row = _fetchone(db, sql, params)
    if db.queries_logged:
        db.queries_log.append({"sql": sql, "time": f"{time.monotonic() - started:.3f}"})
    return row


def _fetchone(db, sql: str, params: list) -> tuple | None:
    import psycopg

    with db.wrap_database_errors, psycopg.Cursor(db.connection) as cursor:
        cursor.execute(sql, params, prepare=True)
        return cursor.fetchone()


def _connection_lost(db) -> bool:
    raw = db.connection
    return raw is None or raw.closed or raw.broken
