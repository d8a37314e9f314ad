"""What the whole-year report page would cost with rollups of every figure: a prototype of the read path.
Prints figures, asserts nothing; leaves the database as it found it. The product keeps the per-rep and
per-day ones since (reports/rollups.py, RepDayFigures); pool fairness's, rule coverage's and the SLA
card's are still only here.

    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/leadops_bench_reports \
        .venv/bin/python bench/reports_rollups.py

On a database bench/reports.py generated and kept (--keep). It builds, in a scratch schema dropped at the end,
what a rollup design would keep: additive counts per (day, rep) and per (month, rep) of the per-rep table and
of leads per day; engine decisions per (day or month, rule, rep) for pool fairness; first decisions per
(day or month, rep, decision) for rule coverage; settled SLAs per (day or month of the due time, rep, rule).
A period is then its whole months' rows plus its first and last days' rows. What no rollup can hold is
read raw, as the page reads it now: the leads that may count twice (an extra partial index, also dropped),
counted distinct, and the exact medians of speed-to-lead.

Then, for the year ending today: each read with rollups next to the page's read of the same figure now
(reports.page.page_parts), the median of 5 in wall time (one query, one core), with the load average; and a
check that the rollups give the per-rep table's counts and the leads per day exactly as the page does.

Not built here: keeping the rollups at write time (every writer of an assignment's facts, and the end of an
assignment, which changes whether its lead may count twice), which is where the real work would be.
"""

from __future__ import annotations

import datetime as dt
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SCHEMA = "bench_rollups"
REPEATS = "ended_at IS NOT NULL OR NOT first_decision"  # the rows whose lead may count twice (selectors `lk`)


def load() -> str:
    return open("/proc/loadavg").read().split(" ", 1)[0]


def grain(column: str, zone: str) -> str:
    """The rollup's key: the day (g = 'd') or the month (g = 'm') of `column` in the server's zone."""
    local = f"({column} AT TIME ZONE '{zone}')"
    return f"CASE WHEN g.g = 'd' THEN {local}::date ELSE date_trunc('month', {local})::date END"


def build(cursor, zone: str) -> None:
    speed = "date_part('epoch', first_contacted_at - created_at)"
    both = "CROSS JOIN (VALUES ('d'), ('m')) g(g)"
    statements = [
        f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE",
        f"CREATE SCHEMA {SCHEMA}",
        f"CREATE TABLE {SCHEMA}.rep_day AS SELECT g.g, {grain('created_at', zone)} AS day, rep_id,"
        " count(*) AS assignments,"
        f" count(*) FILTER (WHERE NOT ({REPEATS})) AS single_assigned,"
        f" count(*) FILTER (WHERE NOT ({REPEATS}) AND first_contacted_at IS NOT NULL) AS single_contacted,"
        f" count(*) FILTER (WHERE NOT ({REPEATS}) AND converted_at IS NOT NULL) AS single_converted,"
        " count(*) FILTER (WHERE misrouted_at IS NOT NULL) AS misrouted,"
        " count(*) FILTER (WHERE reassigned_at IS NOT NULL AND misrouted_at IS NULL) AS reassigned,"
        f" count(*) FILTER (WHERE {speed} <= 300) AS within_5_min"
        f" FROM routing_assignment {both} WHERE outcome = 'assigned' GROUP BY 1, 2, 3",
        f"CREATE TABLE {SCHEMA}.rule_rep AS SELECT g.g, {grain('created_at', zone)} AS day, rule_id, rep_id,"
        f" count(*) AS n FROM routing_assignment {both}"
        " WHERE outcome = 'assigned' AND decided_by = 'engine' AND rule_id IS NOT NULL GROUP BY 1, 2, 3, 4",
        f"CREATE TABLE {SCHEMA}.coverage AS SELECT g.g, {grain('lead_created_at', zone)} AS day, rep_id, outcome,"
        f" decided_by, rule_id, strategy, rule_name, count(*) AS n FROM routing_assignment {both}"
        " WHERE first_decision GROUP BY 1, 2, 3, 4, 5, 6, 7, 8",
        # Coverage keyed without the rep: what a view without a team or territory would read.
        f"CREATE TABLE {SCHEMA}.coverage_all AS SELECT g, day, outcome, decided_by, rule_id, strategy, rule_name,"
        f" sum(n) AS n FROM {SCHEMA}.coverage GROUP BY 1, 2, 3, 4, 5, 6, 7",
        f"CREATE TABLE {SCHEMA}.sla AS SELECT g.g, {grain('sla_due_at', zone)} AS day, rep_id, rule_id, rule_name,"
        " outcome, count(*) FILTER (WHERE sla_met_at IS NOT NULL) AS met,"
        " count(*) FILTER (WHERE sla_breached_at IS NOT NULL) AS breached,"
        " count(*) FILTER (WHERE outcome = 'pooled' AND ended_at IS NOT NULL AND ended_at <= sla_due_at"
        " AND sla_met_at IS NULL AND sla_breached_at IS NULL) AS claimed"
        f" FROM routing_assignment {both} WHERE sla_due_at IS NOT NULL GROUP BY 1, 2, 3, 4, 5, 6",
        f"CREATE INDEX bench_rollups_repeats_idx ON routing_assignment (rep_id, created_at)"
        f" INCLUDE (lead_id, first_contacted_at, converted_at) WHERE outcome = 'assigned' AND ({REPEATS})",
    ]
    for table in ("rep_day", "rule_rep", "coverage", "coverage_all", "sla"):
        statements.append(f"CREATE INDEX ON {SCHEMA}.{table} (g, day)")
    for sql in statements:
        cursor.execute(sql)
    for table in ("rep_day", "rule_rep", "coverage", "coverage_all", "sla"):
        cursor.execute(f"VACUUM ANALYZE {SCHEMA}.{table}")
        cursor.execute(f"SELECT g, count(*) FROM {SCHEMA}.{table} GROUP BY 1 ORDER BY 1")
        print(
            f"  {table:14} " + ", ".join(f"{'days' if g == 'd' else 'months'} {n:,} rows" for g, n in cursor.fetchall())
        )
    cursor.execute("VACUUM ANALYZE routing_assignment")


def period_rows(start: dt.date, end: dt.date) -> str:
    """SQL condition on a rollup: the whole months of [start, end] from month rows, the rest from day rows."""
    first_month = start if start.day == 1 else (start.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    after = end + dt.timedelta(days=1)
    last_month = after.replace(day=1)  # months before this one end inside the period
    if first_month >= last_month:
        return f"(g = 'd' AND day BETWEEN '{start}' AND '{end}')"
    return (
        f"((g = 'm' AND day >= '{first_month}' AND day < '{last_month}')"
        f" OR (g = 'd' AND (day >= '{start}' AND day < '{first_month}' OR day >= '{last_month}' AND day <= '{end}')))"
    )


def reads(start: dt.date, end: dt.date, since: str, until: str, zone: str) -> dict[str, str]:
    rows, period = period_rows(start, end), f"created_at >= '{since}' AND created_at < '{until}'"
    by_rep = (
        "reps_rep rp CROSS JOIN LATERAL (SELECT lead_id, created_at, first_contacted_at, converted_at FROM"
        f" routing_assignment WHERE rep_id = rp.id AND {period} AND outcome = 'assigned'{{extra}}) x"
    )
    contacted = " AND first_contacted_at IS NOT NULL"
    median = "percentile_cont(0.5) WITHIN GROUP (ORDER BY date_part('epoch', x.first_contacted_at - x.created_at))"
    return {
        "per-rep counts (rollup)": "SELECT rep_id, sum(assignments), sum(single_assigned), sum(single_contacted),"
        " sum(single_converted), sum(misrouted), sum(reassigned), sum(within_5_min)"
        f" FROM {SCHEMA}.rep_day WHERE {rows} GROUP BY ROLLUP(rep_id)",
        "per-rep leads that may repeat (raw)": "SELECT rp.id, count(DISTINCT x.lead_id),"
        " count(DISTINCT x.lead_id) FILTER (WHERE x.first_contacted_at IS NOT NULL),"
        " count(DISTINCT x.lead_id) FILTER (WHERE x.converted_at IS NOT NULL)"
        f" FROM {by_rep.format(extra=f' AND ({REPEATS})')} GROUP BY ROLLUP(rp.id)",
        "per-rep medians (raw)": f"SELECT rp.id, {median} FROM {by_rep.format(extra=contacted)} GROUP BY ROLLUP(rp.id)",
        # Where the medians' time goes (printed apart, not summed): the read, the reps' sorts, the total's sort.
        "  of which reading the contacted rows": f"SELECT count(*) FROM {by_rep.format(extra=contacted)}",
        "  of which the medians per rep alone": f"SELECT rp.id, {median} FROM {by_rep.format(extra=contacted)}"
        " GROUP BY rp.id",
        "per-rep SLAs due (rollup)": f"SELECT rep_id, sum(met), sum(breached) FROM {SCHEMA}.sla"
        f" WHERE {rows} AND outcome = 'assigned' AND (met > 0 OR breached > 0) GROUP BY ROLLUP(rep_id)",
        "leads per day (rollup + raw repeats)": "WITH single AS (SELECT d.day, rp.team_id AS team,"
        f" sum(d.single_assigned) AS n FROM {SCHEMA}.rep_day d JOIN reps_rep rp ON rp.id = d.rep_id"
        f" WHERE d.g = 'd' AND d.day BETWEEN '{start}' AND '{end}' GROUP BY 1, 2),"
        f" many AS (SELECT (x.created_at AT TIME ZONE '{zone}')::date AS day, rp.team_id AS team,"
        f" count(DISTINCT x.lead_id) AS n FROM {by_rep.format(extra=f' AND ({REPEATS})')} GROUP BY 1, 2)"
        " SELECT day, team, sum(n) FROM (SELECT * FROM single UNION ALL SELECT * FROM many) u"
        " GROUP BY 1, 2 ORDER BY 1, 2",
        "pool fairness's counts (rollup)": f"SELECT rule_id, rep_id, sum(n) FROM {SCHEMA}.rule_rep WHERE {rows}"
        " GROUP BY 1, 2",
        "rule coverage, with the reps (rollup)": "SELECT outcome, decided_by, rule_id, strategy, rule_name, sum(n)"
        f" FROM {SCHEMA}.coverage WHERE {rows} GROUP BY 1, 2, 3, 4, 5",
        "rule coverage, all reps (rollup)": "SELECT outcome, decided_by, rule_id, strategy, rule_name, sum(n)"
        f" FROM {SCHEMA}.coverage_all WHERE {rows} GROUP BY 1, 2, 3, 4, 5",
        "SLA card by rule (rollup)": "SELECT rule_id, rule_name, sum(met + breached + claimed), sum(breached),"
        f" sum(breached) FILTER (WHERE outcome = 'pooled') FROM {SCHEMA}.sla WHERE {rows} GROUP BY 1, 2",
    }


def timed(work, runs: int = 5) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    os.environ["DATABASE_URL"] = os.environ.get(
        "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/leadops_bench_reports"
    )
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leadops.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.http import QueryDict
    from django.utils import timezone

    from reports import selectors
    from reports.filters import ReportFilter, day_start
    from reports.page import page_parts

    zone = settings.TIME_ZONE
    end = timezone.localdate()
    start = end - dt.timedelta(days=364)
    filters = ReportFilter(QueryDict(f"start={start}&end={end}"))
    assert filters.is_valid(), filters.errors
    since, until = day_start(start), day_start(end + dt.timedelta(days=1))
    print(f"building the rollups of the whole history (load {load()}):", flush=True)
    started = time.perf_counter()
    with connection.cursor() as cursor:
        build(cursor, zone)
    print(f"  built in {time.perf_counter() - started:.0f} s")
    try:
        print(f"the year {start} … {end}, median of 5:")
        total = 0.0
        with selectors.report_queries(), connection.cursor() as cursor:
            for label, sql in reads(start, end, since.isoformat(), until.isoformat(), zone).items():
                if label.startswith(" ") or label == "rule coverage, with the reps (rollup)":
                    seconds = timed(lambda sql=sql: cursor.execute(sql) or cursor.fetchall())
                    note = "  (a view with a team or territory)" if label.startswith("rule") else ""
                    print(f"  {label:42} {seconds:7.3f} s{note}  load {load()}", flush=True)
                    continue
                seconds = timed(lambda sql=sql: cursor.execute(sql) or cursor.fetchall())
                total += seconds
                print(f"  {label:42} {seconds:7.3f} s  load {load()}", flush=True)
        print(f"  {'sum of the reads with rollups':42} {total:7.3f} s")
        now = 0.0
        for name, work in page_parts(filters).items():
            if name in ("report", "per_day", "fairness", "coverage", "sla"):

                def run(work=work):
                    with selectors.report_queries():
                        work()

                seconds = timed(run, runs=3)
                now += seconds
                print(f"  now: {name:37} {seconds:7.3f} s  load {load()}", flush=True)
        print(f"  {'now: sum of the same figures':42} {now:7.3f} s")
        check(filters, since, until, zone)
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP SCHEMA {SCHEMA} CASCADE")
            cursor.execute("DROP INDEX bench_rollups_repeats_idx")


def check(filters, since, until, zone: str) -> None:
    """The rollups give the per-rep table's counts and the leads per day that the page computes now."""
    from django.db import connection

    from reports import selectors

    start, end = filters.period
    with selectors.report_queries():
        now = selectors.assignment_metrics(filters.qs.filter(outcome="assigned"), filters.sla_due())
        per_day = {(p["day"], p["team_name"]): p["leads"] for p in selectors.leads_per_day_by_team(filters.qs)}
        with connection.cursor() as cursor:
            sql = reads(start, end, since.isoformat(), until.isoformat(), zone)
            cursor.execute(sql["per-rep counts (rollup)"])
            counts = {(-1 if r[0] is None else r[0]): r[1:] for r in cursor.fetchall()}
            cursor.execute(sql["per-rep leads that may repeat (raw)"])
            # The ROLLUP's total counts a lead two reps had once, as the table's total does.
            repeats = {(-1 if r[0] is None else r[0]): r[1:] for r in cursor.fetchall()}
            per_day_sql = sql["leads per day (rollup + raw repeats)"]
            cursor.execute(
                f"SELECT u.day, COALESCE(t.name, %s), u.n FROM ({per_day_sql}) u(day, team, n)"
                " LEFT JOIN reps_team t ON t.id = u.team",
                [selectors.NO_TEAM],
            )
            rolled_days = {(day, team): int(n) for day, team, n in cursor.fetchall() if n}
    differ = 0
    for key, item in now.items():
        if key not in counts:
            differ += bool(item["assignments"])
            continue
        assignments, single_a, single_c, single_v, misrouted, reassigned, within = counts[key]
        many = repeats.get(key, (0, 0, 0))
        rolled = {
            "assignments": assignments,
            "assigned": single_a + many[0],
            "contacted": single_c + many[1],
            "converted": single_v + many[2],
            "misrouted": misrouted,
            "reassigned": reassigned,
            "within_5_min": within,
        }
        differ += any(int(rolled[name]) != item[name] for name in rolled)
    print(
        f"check: per-rep counts {'identical' if not differ else f'differ for {differ} rows'} ({len(now)} rows);"
        f" leads per day {'identical' if rolled_days == per_day else 'differ'} ({len(per_day)} day-team rows)"
    )


if __name__ == "__main__":
    main()
