"""Reports benchmark: prints figures, asserts nothing (speed lives here, not in tests).

    .venv/bin/python bench/reports.py                       # Postgres at 127.0.0.1, db leadops_bench_reports
    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/other .venv/bin/python bench/reports.py --keep

Creates a scratch database (dropped afterwards unless --keep), migrates it, and generates a year of
data with INSERT … SELECT generate_series (minutes on a busy machine): 500 reps in 20 teams, 30
rules (5 catch-all), 1,000,000 leads spread over 365 days with ~1.07 M assignments (5 % reassigned
by ops after 1–10 days, 2 % flagged misrouted and re-routed) and ~1.6 M events (contacted,
converted, lost, misrouted). Half the rules have an SLA (30 min or 4 h, `notify`): their assignments and
poolings get `sla_due_at`, and those due are settled as the SLA watch would have settled them (met by a
contact by the due time, else breached half a minute after it; ended before due: neither), so the
report's SLA columns and card are measured (`--reuse` adds them to a kept database that lacks them).
Then it fills the report facts of that history as migrations routing 0004, 0007 and 0008 do (each timed:
the backfills on 1 M leads), compacts the table (the bulk fills rewrote most rows at once, which a year of
live writes does not), folds the report rollups as their job does (reports/rollups.py; timed) and times,
through Django's test client as a logged-in
manager (view + queries + template, i.e. the server-side work), the median of 5 (of 3 for the year)
in wall time and in CPU time (this process + Postgres's processes: what the view costs, whatever
else runs on the shared machine):

  * GET /reports/            default period (last 30 days) — target ≤ 0.3 s
  * GET /reports/reps.csv    default period
  * GET /reports/ and /reports/reps.csv for the whole year — target ≤ 1 s each

These are cold figures: every view computes its own (REPORT_CACHE_SECONDS=0). Then the 30-day page
once more with its figures shared (reports/cache.py: a view within the minute reuses them), printed
apart as warm. Then 20 managers opening /reports/ at once against gunicorn (gunicorn.conf.py), p50
and p95 (target p95 ≤ 2 s), twice: with sharing off (20 computations) and with sharing on from a
cold cache (the first view computes, the others wait for it). Sharing across gunicorn workers needs
the Redis cache: REDIS_URL, else BENCH_REDIS_URL (default redis://127.0.0.1:6379/15).

First, the floors on this data, for the last 30 days and the year: what reading the assignment slice
costs with nothing else (count), sorted by rep, with only the median (PERCENTILE_CONT, over all and per
rep), and with only the count columns (a hash aggregate; three, then the table's thirteen): no per-rep
query can cost less than the first, nor one with the per-rep medians less than the fourth. Then, on
one core and read rep by rep as the per-rep table reads the period, the slice, the medians and the
count columns: the CPU the table needs. Every line carries the load average.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import socket
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

N_LEADS = 1_000_000
N_REPS = 500
N_TEAMS = 20
N_RULES = 30
RUNS = 5


def load() -> str:
    return open("/proc/loadavg").read().split(" ", 1)[0]


def gunicorn_settings() -> str:
    conf: dict = {}
    exec((ROOT / "gunicorn.conf.py").read_text(), conf)
    return f"{conf['workers']} {conf['worker_class']} workers"


def admin_url(url: str, dbname: str) -> str:
    return url.rsplit("/", 1)[0] + f"/{dbname}"


def recreate(url: str, drop_only: bool = False) -> None:
    import psycopg

    dbname = url.rsplit("/", 1)[1]
    with psycopg.connect(admin_url(url, "postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
        if not drop_only:
            conn.execute(f'CREATE DATABASE "{dbname}"')


GENERATE = """
SELECT setseed(0.42);

INSERT INTO reps_team (name) SELECT 'Team ' || lpad(t::text, 2, '0') FROM generate_series(1, {teams}) t;

INSERT INTO reps_rep (name, email, team_id, active, timezone, capacity, daily_cap, weight, working_hours,
                      notify_email, created_at, updated_at)
SELECT 'Rep ' || lpad(r::text, 3, '0'), 'rep' || r || '@bench.example',
       (SELECT min(id) FROM reps_team) + r % {teams}, true, 'UTC', 200, 50,
       CASE WHEN r % 10 = 0 THEN 0.5 ELSE 1.0 END, '{{}}', true, now(), now()
FROM generate_series(1, {reps}) r;

INSERT INTO routing_rule (name, priority, active, pool_team_id, pool_matched_territory, strategy, when_none_eligible,
                          requires_working_hours, sla_action, created_at, updated_at)
SELECT 'Rule ' || lpad(u::text, 2, '0'), u * 10, true, (SELECT min(id) FROM reps_team) + u % {teams}, false,
       'round_robin', 'next_rule', false, 'notify', now(), now()
FROM generate_series(1, {rules}) u;

INSERT INTO routing_rulecondition (rule_id, field, op, value, position)
SELECT id, 'country', 'equals', '"DE"', 0 FROM routing_rule WHERE priority <= {specific} * 10;

CREATE TEMP TABLE gen AS
SELECT g AS n,
       now() - random() * interval '365 days' AS created,
       random() AS r,
       (SELECT min(id) FROM reps_rep) + floor(random() * {reps})::int AS rep,
       (SELECT min(id) FROM routing_rule) + g % {rules} AS rule
FROM generate_series(1, {leads}) g;

INSERT INTO leadops_lead (source, external_id, email, email_domain, first_name, last_name, phone, company, industry,
                          country, region, city, postal_code, product_interest, language, extra, status, owner_id,
                          routing_error, created_at, updated_at, assigned_at)
SELECT (ARRAY['web_form', 'webinar', 'marketo', 'partner', 'trade_show'])[1 + n % 5], 'b' || n,
       'lead' || n || '@example.com', 'example.com', '', '', '', '', '', 'DE', '', '', '', '', '', '{{}}',
       s.status, CASE WHEN s.status IN ('unroutable', 'pooled') THEN NULL ELSE rep END, '', created, created,
       CASE WHEN s.status IN ('unroutable', 'pooled') THEN NULL ELSE created END
FROM (
  SELECT gen.*, CASE
    WHEN created < now() - interval '30 days' THEN
      CASE WHEN r < 0.01 THEN 'unroutable' WHEN r < 0.21 THEN 'converted' WHEN r < 0.95 THEN 'lost' ELSE 'assigned' END
    ELSE
      CASE WHEN r < 0.04 THEN 'unroutable' WHEN r < 0.07 THEN 'pooled' WHEN r < 0.15 THEN 'converted'
           WHEN r < 0.25 THEN 'lost' ELSE 'assigned' END
  END AS status FROM gen
) s ORDER BY s.created;

-- Rep numbering helper: the "other" rep a lead went to first when it was reassigned / misrouted.
CREATE TEMP TABLE routed AS
SELECT l.id, l.owner_id, l.status, l.created_at, (l.id % {rules}) + (SELECT min(id) FROM routing_rule) AS rule_id,
       (SELECT min(id) FROM reps_rep) + ((l.owner_id - (SELECT min(id) FROM reps_rep) + 7) % {reps}) AS other_rep,
       CASE WHEN l.id % 20 = 0 THEN 'reassigned' WHEN l.id % 50 = 1 THEN 'misrouted' ELSE '' END AS history,
       (1 + l.id % 10) * interval '1 day' AS reassign_after
FROM leadops_lead l WHERE l.owner_id IS NOT NULL;

-- Earlier assignments that did not stick.
INSERT INTO routing_assignment (lead_id, outcome, rep_id, rule_id, rule_name, strategy, decided_by, rule_set_version,
                                reason, created_at, ended_at, end_reason, first_decision, lead_created_at)
SELECT id, 'assigned', other_rep, rule_id, '', 'round_robin', 'engine', 1, '{{}}', created_at + interval '2 seconds',
       created_at + CASE WHEN history = 'reassigned' THEN reassign_after ELSE interval '10 minutes' END, history, true,
       created_at
FROM routed WHERE history <> '';

INSERT INTO leadops_leadevent (lead_id, type, rep_id, at, note, created_at)
SELECT id, 'misrouted', other_rep, created_at + interval '10 minutes', '', now()
  FROM routed WHERE history = 'misrouted';

-- The assignment that holds now.
INSERT INTO routing_assignment (lead_id, outcome, rep_id, rule_id, rule_name, strategy, decided_by, rule_set_version,
                                reason, created_at, ended_at, end_reason, first_decision, lead_created_at)
SELECT id, 'assigned', owner_id, rule_id, '', 'round_robin',
       CASE WHEN history = 'reassigned' THEN 'user' ELSE 'engine' END, 1, '{{}}',
       created_at + CASE WHEN history = 'reassigned' THEN reassign_after
                         WHEN history = 'misrouted' THEN interval '10 minutes 1 second'
                         ELSE interval '2 seconds' END,
       NULL, '', true, created_at
FROM routed;

INSERT INTO routing_assignment (lead_id, outcome, rep_id, rule_id, rule_name, strategy, decided_by, rule_set_version,
                                reason, created_at, ended_at, end_reason, first_decision, lead_created_at)
SELECT id, status, NULL, CASE WHEN status = 'pooled' THEN (id % {rules}) + (SELECT min(id) FROM routing_rule) END,
       '', '', 'engine', 1, '{{}}', created_at + interval '2 seconds', NULL, '', true, created_at
FROM leadops_lead WHERE status IN ('unroutable', 'pooled');

-- Outcome events by the owner: 75 % contacted (exponential, mean 30 min), then converted / lost.
INSERT INTO leadops_leadevent (lead_id, type, rep_id, at, note, created_at)
SELECT a.lead_id, 'contacted', a.rep_id, a.created_at - ln(1 - random()) * interval '30 minutes', '', now()
FROM routing_assignment a WHERE a.outcome = 'assigned' AND a.ended_at IS NULL AND random() < 0.75;

INSERT INTO leadops_leadevent (lead_id, type, rep_id, at, note, created_at)
SELECT id, status, owner_id, created_at + interval '3 days', '', now()
FROM leadops_lead WHERE status IN ('converted', 'lost');

UPDATE leadops_lead SET closed_at = created_at + interval '3 days' WHERE status IN ('converted', 'lost');
"""

# Half the rules get an SLA (rule 4, 8 …: 30 min; rule 2, 6 …: 4 h), and their history what the SLA watch
# (routing/services/sla.py) would have written: due = decision + minutes; once due, met at the first
# contact by then, else breached (the watch runs every minute); ended before due (misrouted after
# 10 minutes): no outcome; due in the future or within the last minute: not settled yet.
SLA_FILL = """
UPDATE routing_rule SET sla_minutes = CASE WHEN priority % 40 = 0 THEN 30 ELSE 240 END, sla_action = 'notify'
WHERE priority % 20 = 0;

UPDATE routing_assignment a SET sla_due_at = a.created_at + r.sla_minutes * interval '1 minute',
       sla_met_at = NULL, sla_breached_at = NULL
FROM routing_rule r WHERE r.id = a.rule_id AND r.sla_minutes IS NOT NULL;

UPDATE routing_assignment a SET sla_met_at = c.first
FROM (SELECT lead_id, min(at) AS first FROM leadops_leadevent WHERE type = 'contacted' GROUP BY lead_id) c
WHERE c.lead_id = a.lead_id AND a.sla_due_at IS NOT NULL AND a.sla_due_at < now() - interval '1 minute'
  AND c.first >= a.created_at AND c.first <= a.sla_due_at AND (a.ended_at IS NULL OR c.first <= a.ended_at);

UPDATE routing_assignment SET sla_breached_at = sla_due_at + interval '30 seconds'
WHERE sla_due_at IS NOT NULL AND sla_met_at IS NULL AND sla_due_at < now() - interval '1 minute'
  AND (ended_at IS NULL OR ended_at > sla_due_at)
"""


def sla_fill(cursor) -> str:
    """Give half the rules an SLA and settle their history (SLA_FILL); a line of what it wrote."""
    for statement in [s.strip() for s in SLA_FILL.split(";") if s.strip()]:
        cursor.execute(statement)
    cursor.execute("VACUUM ANALYZE routing_assignment")
    cursor.execute(
        "SELECT count(sla_due_at), count(sla_met_at), count(sla_breached_at),"
        " count(*) FILTER (WHERE sla_due_at IS NOT NULL AND sla_met_at IS NULL AND sla_breached_at IS NULL"
        " AND ended_at IS NULL) FROM routing_assignment"
    )
    due, met, breached, open_ = cursor.fetchone()
    return f"SLA: {due:,} assignments with a due time, {met:,} met, {breached:,} breached, {open_:,} running"


def generate(cursor, leads: int = N_LEADS) -> dict:
    sql = GENERATE.format(
        teams=N_TEAMS,
        reps=N_REPS,
        rules=N_RULES,
        specific=N_RULES - 5,
        leads=leads,
    )
    for statement in [s.strip() for s in sql.split(";") if s.strip()]:
        cursor.execute(statement)
    cursor.execute("VACUUM ANALYZE")  # as autovacuum would have: visibility map for index-only scans
    counts = {}
    for table in ("leadops_lead", "routing_assignment", "leadops_leadevent", "reps_rep"):
        cursor.execute(f"SELECT count(*) FROM {table}")
        counts[table] = cursor.fetchone()[0]
    return counts


def forget_shared_figures(redis_url: str) -> None:
    """Delete the shared report figures from the Redis the gunicorn workers use (the bench's own db)."""
    import redis

    client = redis.Redis.from_url(redis_url)
    keys = list(client.scan_iter(match="*reports:page:*"))
    if keys:
        client.delete(*keys)


# Each floor returns its rows to the client: wrapped in count(*), Postgres drops the aggregates nobody reads
# (the per-rep floors printed before 2026-12-06 05:30 were measured that way and came out too low).
FLOORS = [
    ("count(*) of the slice", "SELECT count(*) FROM {slice}"),
    ("sorted by rep", "SELECT count(*) FROM (SELECT rep_id + 0 AS r FROM {slice} ORDER BY 1 OFFSET 0) s"),
    (
        "PERCENTILE_CONT alone, over all",
        "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY {speed}) FROM {slice} AND first_contacted_at IS NOT NULL",
    ),
    (
        "PERCENTILE_CONT alone, per rep and over all",
        "SELECT rep_id + 0, percentile_cont(0.5) WITHIN GROUP (ORDER BY {speed})"
        " FROM {slice} AND first_contacted_at IS NOT NULL GROUP BY ROLLUP(1)",
    ),
    (
        "3 count columns per rep (hash aggregate)",
        "SELECT rep_id + 0, count(*), sum(CASE WHEN converted_at IS NOT NULL THEN 1 ELSE 0 END),"
        " sum(CASE WHEN misrouted_at IS NOT NULL THEN 1 ELSE 0 END), sum(CASE WHEN {speed} <= 300 THEN 1 ELSE 0 END)"
        " FROM {slice} GROUP BY 1",
    ),
    (
        "13 count columns per rep (no distinct, no median)",
        "SELECT rep_id + 0, count(*), {counts} FROM {slice} GROUP BY 1",
    ),
]


def floor_counts(speed: str) -> str:
    """The per-rep table's plain counts as reports/selectors.py words them (misrouted, moved, within 5 min, its
    speed buckets, three converted/contacted/single flags), without the distinct leads and the median; `speed`
    is the SQL of one assignment's speed-to-lead. Called after django.setup()."""
    from reports.columns import speed_bucket_conditions

    buckets = [f"sum(CASE WHEN {cond} THEN 1 ELSE 0 END)" for cond in speed_bucket_conditions(speed)]
    return ", ".join(
        [
            "sum(CASE WHEN misrouted_at IS NOT NULL THEN 1 ELSE 0 END)",
            "sum(CASE WHEN reassigned_at IS NOT NULL AND misrouted_at IS NULL THEN 1 ELSE 0 END)",
            f"sum(CASE WHEN {speed} <= 300 THEN 1 ELSE 0 END)",
            *buckets,
            "sum(CASE WHEN ended_at IS NULL AND first_decision THEN 1 ELSE 0 END)",
            "sum(CASE WHEN converted_at IS NOT NULL THEN 1 ELSE 0 END)",
            "sum(CASE WHEN first_contacted_at IS NOT NULL THEN 1 ELSE 0 END)",
        ]
    )


def _median_seconds(cursor, sql: str, params, runs: int = 3) -> float:
    """Median wall time of `sql`, its rows fetched (a floor that returns nothing can drop its aggregates)."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        cursor.execute(sql, params)
        cursor.fetchall()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def floors(start, end) -> None:
    """The floors of the per-rep query on this data, in the report's own transaction settings: each
    statement's median of 3, in wall time (one query, one core)."""
    from django.db import connection

    from reports.columns import seconds_between_sql
    from reports.filters import day_start
    from reports.selectors import report_queries

    slice_ = "routing_assignment WHERE outcome = 'assigned' AND created_at >= %s AND created_at < %s"
    speed = seconds_between_sql("first_contacted_at", "created_at")  # as reports/selectors.py reads it
    params = [day_start(start), day_start(end + dt.timedelta(days=1))]
    with report_queries(), connection.cursor() as cursor:
        cursor.execute("SHOW max_parallel_workers_per_gather")
        parallel = cursor.fetchone()[0]
        cursor.execute(f"SELECT count(*) FROM {slice_}", params)
        rows = cursor.fetchone()[0]
        days = (end - start).days + 1
        print(f"floors over {days} days, {rows:,} assignments (max_parallel_workers_per_gather {parallel}):")
        for label, sql in FLOORS:
            seconds = _median_seconds(cursor, sql.format(slice=slice_, speed=speed, counts=floor_counts(speed)), params)
            print(f"  {label:50} {seconds:>7.3f} s  load {load()}", flush=True)
        # The CPU the per-rep table needs, as it reads the period now (rep by rep, reports/selectors.py
        # _period_sql): each part on one core, so their sum less the shared read, halved, is the least
        # wall time 2 cores could give the table if every part were split perfectly between them.
        cursor.execute("SET LOCAL max_parallel_workers_per_gather = 0")
        print("  rep by rep, on one core (CPU):")
        by_rep = (
            "reps_rep rp CROSS JOIN LATERAL (SELECT * FROM routing_assignment WHERE rep_id = rp.id"
            " AND outcome = 'assigned' AND created_at >= %s AND created_at < %s{extra}) routing_assignment"
        )
        qualified = seconds_between_sql("routing_assignment.first_contacted_at", "routing_assignment.created_at")
        contacted = " AND first_contacted_at IS NOT NULL"
        for label, sql in [
            ("reading the slice", f"SELECT count(*) FROM {by_rep.format(extra='')}"),
            (
                "PERCENTILE_CONT per rep and over all",
                f"SELECT rp.id, percentile_cont(0.5) WITHIN GROUP (ORDER BY {qualified})"
                f" FROM {by_rep.format(extra=contacted)} GROUP BY ROLLUP(rp.id)",
            ),
            (
                "13 count columns per rep",
                f"SELECT rp.id, count(*), {floor_counts(qualified)} FROM {by_rep.format(extra='')} GROUP BY rp.id",
            ),
        ]:
            print(f"    {label:48} {_median_seconds(cursor, sql, params):>7.3f} s  load {load()}", flush=True)


def backend_cpu_seconds() -> float:
    """CPU time Postgres has used on this machine, from /proc: its running processes' and, through the
    postmaster, that of the backends that have exited. A long period's page reads on a second connection that
    its thread closes (reports/page.py), so this process's own backend alone would miss half the view's CPU."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW data_directory")
        directory = cursor.fetchone()[0]
    postmaster = int(open(f"{directory}/postmaster.pid").readline())
    ticks = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fields = open(f"/proc/{entry}/stat").read().rsplit(")", 1)[1].split()
        except OSError:  # exited meanwhile
            continue
        if int(entry) == postmaster:
            ticks += sum(int(v) for v in fields[11:15])  # its own, and its reaped children's
        elif int(fields[1]) == postmaster:
            ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def timed(client, url: str, runs: int = RUNS) -> tuple[float, float, int, int]:
    """Median wall time and median CPU time (this process + Postgres) of `runs` requests.

    The CPU time is what the view costs whatever else runs on the machine; on a quiet machine the
    wall time is about the same, but for a long period's page, which reads on two connections at once."""
    from django.db import connection, reset_queries

    times, cpu, size, queries = [], [], 0, 0
    client.get(url)  # warm-up (template compile, Postgres cache)
    for _ in range(runs):
        reset_queries()
        backend, own = backend_cpu_seconds(), time.process_time()
        started = time.perf_counter()
        response = client.get(url)
        times.append(time.perf_counter() - started)
        time.sleep(0.05)  # for the postmaster to reap a second connection's backend, which counts its CPU
        cpu.append(time.process_time() - own + backend_cpu_seconds() - backend)
        assert response.status_code == 200, response.status_code
        size, queries = len(response.content), len(connection.queries)
    return statistics.median(times), statistics.median(cpu), size, queries


def sla_share(year: str) -> None:
    """What the SLA figures add, measured in this run: the per-rep query with the period's SLA slice against
    the same query with an empty one, and the SLA card's and never-fired queries alone (median of 3, CPU of
    this process + Postgres)."""
    from django.http import QueryDict

    from reports import selectors
    from reports.filters import ReportFilter

    def cpu_of(work) -> float:
        runs = []
        for _ in range(3):
            backend, own = backend_cpu_seconds(), time.process_time()
            with selectors.report_queries():
                work()
            runs.append(time.process_time() - own + backend_cpu_seconds() - backend)
        return statistics.median(runs)

    def measure(label: str, query: str) -> None:
        filters = ReportFilter(QueryDict(query))
        assert filters.is_valid(), filters.errors
        assigned = filters.qs.filter(outcome="assigned")
        with_sla = cpu_of(lambda: selectors.assignment_metrics(assigned, filters.sla_due()))
        without = cpu_of(lambda: selectors.assignment_metrics(assigned, filters.sla_due().filter(pk__lt=0)))
        card = cpu_of(lambda: selectors.sla_health(due=filters.sla_due(), current=filters.current()))
        never = cpu_of(lambda: selectors.never_fired(filters.decisions()))
        print(
            f"SLA share, {label}: per-rep query CPU {with_sla:.3f} s with the SLA slice, {without:.3f} s without "
            f"({with_sla / without:.2f}×); SLA card {card:.3f} s; never fired {never:.3f} s; load {load()}",
            flush=True,
        )

    measure("last 30 days", "")
    measure("whole year", year.lstrip("?"))


def concurrent_views(user, url: str, *, shared_seconds: int, redis_url: str, views: int = 20) -> list[float]:
    """`views` managers opening `url` at the same moment, against gunicorn (gunicorn.conf.py) over HTTP.

    With `shared_seconds`, the report's figures are shared through Redis (reports/cache.py): the cache
    is emptied of them after the warm-up, so the first of the views computes (a cold start)."""
    import subprocess
    import tempfile
    import threading
    import urllib.request

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    session = SessionStore()
    session[SESSION_KEY], session[BACKEND_SESSION_KEY] = str(user.pk), settings.AUTHENTICATION_BACKENDS[0]
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.save()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "DEBUG": "0", "SECRET_KEY": settings.SECRET_KEY, "ALLOWED_HOSTS": "127.0.0.1"}
    env.update(REPORT_CACHE_SECONDS=str(shared_seconds), REDIS_URL=redis_url)
    log = tempfile.NamedTemporaryFile(prefix="leadops-bench-reports-gunicorn-", suffix=".log", delete=False)
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "leadops.wsgi", "-c", str(ROOT / "gunicorn.conf.py"), "--bind",
         f"127.0.0.1:{port}", "--timeout", "120"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.2)
        cookie = f"{settings.SESSION_COOKIE_NAME}={session.session_key}"

        def get() -> float:
            request = urllib.request.Request(f"http://127.0.0.1:{port}{url}", headers={"Cookie": cookie})
            started = time.perf_counter()
            with urllib.request.urlopen(request, timeout=120) as response:
                response.read()
                assert response.status == 200, response.status
            return time.perf_counter() - started

        for _ in range(3):  # every worker warmed up
            get()
        forget_shared_figures(redis_url)
        barrier, latencies = threading.Barrier(views), []

        def one():
            barrier.wait()
            latencies.append(get())

        threads = [threading.Thread(target=one) for _ in range(views)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return sorted(latencies)
    finally:
        os.killpg(server.pid, 15)
        server.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--keep", action="store_true", help="keep the generated database")
    parser.add_argument("--reuse", action="store_true", help="time an already generated database (with --keep before)")
    parser.add_argument("--leads", type=int, default=N_LEADS, help="leads to generate (fewer: try the script)")
    args = parser.parse_args()

    url = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/leadops_bench_reports")
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leadops.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    if not args.reuse:
        recreate(url)

    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth.models import Group, User
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    settings.DEBUG = True  # count queries
    try:
        if not args.reuse:
            call_command("migrate", verbosity=0)
            started = time.perf_counter()
            with connection.cursor() as cursor:
                counts = generate(cursor, args.leads)
            print(
                f"generated in {time.perf_counter() - started:.0f} s: "
                + ", ".join(f"{t} {n:,}" for t, n in counts.items())
            )
            # The history was written around the services: fill its report facts as migrations routing 0004,
            # 0007 and 0008 do (the rows come in with first_decision true, as 0008 adds the column).
            from routing.services.facts import (
                assignment_facts_fill,
                assignment_first_decision_fill,
                assignment_reassigned_fill,
            )

            for what, fill in [
                ("first contact, conversion, misrouted (routing 0004)", assignment_facts_fill),
                ("reassigned within 7 days (routing 0007)", assignment_reassigned_fill),
                ("first decision of each lead (routing 0008)", assignment_first_decision_fill),
            ]:
                started = time.perf_counter()
                filled = fill()
                with connection.cursor() as cursor:  # as the migrations do: statistics and visibility map
                    cursor.execute("VACUUM (ANALYZE) routing_assignment")
                print(
                    f"backfill of {what}: {time.perf_counter() - started:.0f} s, {filled:,} rows written "
                    f"(target ≤ 2 min); load {load()}",
                    flush=True,
                )
        with connection.cursor() as cursor:
            cursor.execute("SELECT EXISTS (SELECT 1 FROM routing_assignment WHERE sla_due_at IS NOT NULL)")
            if not args.reuse or not cursor.fetchone()[0]:  # a database kept before the SLA had none
                started = time.perf_counter()
                print(f"{sla_fill(cursor)}; filled in {time.perf_counter() - started:.0f} s, load {load()}", flush=True)
            if not args.reuse:
                # A year of live writes leaves the rows in time order, each fact written near its row. The bulk fills
                # above rewrote most rows at once and scattered them over a table twice the size: compact it, as
                # the history would be.
                started = time.perf_counter()
                cursor.execute("VACUUM (FULL, ANALYZE) routing_assignment")
                # FULL leaves the visibility map empty: the plain VACUUM sets it, or no index-only scan is chosen.
                cursor.execute("VACUUM routing_assignment")
                print(f"table compacted (VACUUM FULL) in {time.perf_counter() - started:.0f} s", flush=True)
        # The rollups' log names the days the history changed (its trigger saw every write, the bulk ones too):
        # fold them as the job does every minute, so the views read current rollups, as on a live install.
        from reports.rollups import rollups_fold

        started = time.perf_counter()
        days = rollups_fold()
        print(f"rollups folded (reports.rollups): {days} days rebuilt in {time.perf_counter() - started:.1f} s")
        user, _ = User.objects.get_or_create(username="bench-manager")
        user.groups.add(Group.objects.get(name="Managers"))
        client = Client()
        client.force_login(user)
        year = "?start={:%Y-%m-%d}&end={:%Y-%m-%d}"
        from django.utils import timezone

        today = timezone.localdate()
        year = year.format(today - dt.timedelta(days=364), today)
        print(f"load average before timing: {load()} on {os.cpu_count()} CPUs (the machine is shared)")
        floors(today - dt.timedelta(days=29), today)
        floors(today - dt.timedelta(days=364), today)
        head = f"{'what (cold: every view computes)':52} {'wall':>9} {'CPU':>9} {'runs':>5} {'queries':>8}"
        print(f"{head} {'bytes':>10}  load")
        settings.REPORT_CACHE_SECONDS = 0
        for label, url_, runs in [
            ("page /reports/ (last 30 days, target ≤ 0.3 s)", "/reports/", RUNS),
            ("CSV /reports/reps.csv (last 30 days)", "/reports/reps.csv", RUNS),
            ("page /reports/ (whole year, target ≤ 1 s)", "/reports/" + year, 3),
            ("CSV /reports/reps.csv (whole year, target ≤ 1 s)", "/reports/reps.csv" + year, 3),
        ]:
            seconds, cpu, size, queries = timed(client, url_, runs)
            print(
                f"{label:52} {seconds:>7.3f} s {cpu:>7.3f} s {runs:>5} {queries:>8} {size:>10,}  {load()}", flush=True
            )
        sla_share(year)
        settings.REPORT_CACHE_SECONDS = 60
        seconds, cpu, size, queries = timed(client, "/reports/", RUNS)
        label = "WARM page /reports/ (30 days, figures shared)"
        print(f"{label:52} {seconds:>7.3f} s {cpu:>7.3f} s {RUNS:>5} {queries:>8} {size:>10,}  {load()}", flush=True)
        redis_url = os.environ.get("REDIS_URL") or os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/15")
        for shared_seconds, what in [(0, "sharing off, each view computes"), (60, "sharing on, cold cache")]:
            latencies = concurrent_views(user, "/reports/", shared_seconds=shared_seconds, redis_url=redis_url)
            p50, p95 = latencies[len(latencies) // 2], latencies[int(round(0.95 * (len(latencies) - 1)))]
            print(
                f"20 concurrent views of /reports/ (last 30 days) on gunicorn ({gunicorn_settings()}), {what}: "
                f"p50 {p50:.2f} s, p95 {p95:.2f} s (target p95 ≤ 2 s); load {load()}",
                flush=True,
            )
    finally:
        connection.close()
        if not args.keep:
            recreate(url, drop_only=True)


if __name__ == "__main__":
    main()
