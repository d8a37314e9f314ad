"""One statement run as a prepared statement on Postgres, for the statements every API post runs
(the key lookup, the lead insert). Django's psycopg cursors bind parameters on the client (the SQL
text is rebuilt in Python for each call, then parsed and planned by Postgres each time); here a
server-side-binding cursor prepares the statement once per connection (persistent connections,
DB_CONN_MAX_AGE) and then sends only the parameters. Measured in bench/intake.py (README).

The query still counts in DEBUG's connection.queries (and so in the tests' query counts).
"""

from __future__ import annotations

import time

from django.db import connection


def fetchone_prepared(sql: str, params: list) -> tuple | None:
    """Run `sql` (with %s placeholders) prepared on this connection, in its current transaction; the first row."""
    import psycopg

    connection.close_if_health_check_failed()  # as Django's own cursors do (CONN_HEALTH_CHECKS)
    connection.ensure_connection()
    started = time.monotonic()
    with connection.wrap_database_errors, psycopg.Cursor(connection.connection) as cursor:
        cursor.execute(sql, params, prepare=True)
        row = cursor.fetchone()
    if connection.queries_logged:
        connection.queries_log.append({"sql": sql, "time": f"{time.monotonic() - started:.3f}"})
    return row
