"""Metric queries for the manager reports. Every figure is computed by the database.

Definitions (PRODUCT.md "Metrics", made precise here; tests in reports/tests/test_metrics.py):

* **Period**: `start`..`end` are inclusive dates in the server's time zone; an assignment is in
  the period when its `created_at` falls in [start 00:00, end + 1 day 00:00).
* **Assigned** (per rep): distinct leads with an Assignment of outcome `assigned` to the rep
  created in the period (a lead assigned to the same rep twice counts once).
* **Converted**: of those leads, the ones the rep converted (the lead's owner when its
  `converted` event was recorded); a lead reassigned away and converted by someone else counts
  for the rep who converted it, not for both. Kept on the rep's assignments as `converted_at`.
* **Conversion rate** = converted / assigned (a fraction 0–1; empty when nothing was assigned).
* **Contacted**: of those leads, the ones with a `contacted` event by the rep (event.rep is the
  owner at the time) after the assignment and before it ended; the first one is kept on the
  assignment as `first_contacted_at`.
* **Speed-to-lead** of one assignment = first such `contacted` event − assignment time, in
  seconds. **Median** over the contacted assignments (PERCENTILE_CONT(0.5) on Postgres, a
  window-function median on SQLite). **Within 5 min** = assignments contacted within 300 s ÷
  all assignments in the period (never-contacted ones count as not within 5 minutes).
* **Assignment accuracy** = assignments that stuck ÷ all assignments to the rep in the period
  (each Assignment row is one assignment). An assignment did *not* stick when
  - **misrouted**: the rep flagged the lead `misrouted` (a LeadEvent of type misrouted with
    rep = that rep) at or after the assignment and no later than its `ended_at` (kept on the
    assignment as `misrouted_at`); or
  - **reassigned**: not flagged misrouted, but the same lead was assigned to a *different*
    rep within 7 days after this assignment (by ops, by a re-route or after a release alike; not
    when the assignment ended by an SLA re-route), kept on the assignment as `reassigned_at`.
  A misrouted lead that is then routed to someone else counts once, as misrouted. Only an
  assignment that ended can have moved: the services set `ended_at` on an assignment whenever a
  later assignment or a misrouted / released event replaces it.
* The facts above are kept on each Assignment when they happen, in the transaction of the one
  service that ends assignments (`assignments_end`), the one that records events
  (`lead_event_record`) and, before every write of an `assigned` row, `assignments_mark_reassigned`;
  the per-rep table reads one table's period slice, from its index alone, and no event.
* **Open now** = leads owned by the rep with status `assigned`; **load** = open ÷ capacity.
  A rep is marked *inactive* (not active) or *away until <date>* (a time off running now).
* **SLA** (PRODUCT.md "SLA"): the SLA figures count the assignments whose SLA fell *due* in the
  period (`sla_due_at` in it; the period filters the due time, not the assignment time) and that
  the watch settled: **SLAs due** = met + breached; **SLA breaches** = those with `sla_breached_at`
  (an SLA re-route, which ends the assignment with `sla_breached`, stays a breach of the rep it was
  taken from); **SLA met rate** = met ÷ due (empty when none). An assignment that ended before its
  due time has no SLA outcome and counts in neither; one due but not yet looked at by the watch
  (it runs every minute) waits for it.
* **Rule coverage**: for leads created in the period, their *first* routing decision (the
  earliest Assignment row) is classed as
  - `rule`: decided by a rule with at least one condition, or by existing-owner routing;
  - `fallback`: decided by a catch-all rule (no conditions) or by a user (manual routing);
  - `unroutable`: the engine found no rule and rep.
  Leads still pending (no decision yet) are reported apart as "not routed yet".
* **Pool fairness** of a rule: among the rule's pool (its listed reps, its team's members and
  every rep it assigned to in the period), assignments it made to each rep divided by the
  rep's weight; spread = most − least. Reps of a territory pool count only once they received
  a lead from the rule (territory pools are resolved by the engine, not stored).
* **Filters**: team and territory (or a territory inside it) choose the reps, and so the
  assignments counted; source chooses the leads. The routing-health panel follows them too: with a
  team or territory chosen, rule coverage counts the leads whose first decision went to one of
  those reps, "waiting in pools" the pools they belong to, the SLA card their assignments; an
  unroutable lead has no rep, hence no team, so it is counted only without a team or territory.
* **Never fired**: active rules that made no decision (of any outcome) in the period, for the
  chosen source.
* **Uneven pool**: a round-robin or weighted pool whose spread is more than its rotation allows
  (`FAIRNESS_*` below say why that much).

The number of queries does not depend on the number of reps or leads.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TypeVar

from django.db import OperationalError, connection, transaction
from django.db.models import (
    Count,
    Exists,
    F,
    IntegerField,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from leadops.models import Lead, LeadStatus
from reps.models import Rep, Team, TimeOff
from routing.engine.vocabulary import ROUND_ROBIN, STRATEGY_LABELS, WEIGHTED
from routing.models import Assignment, Rule, RuleCondition, RulePoolRep

from .columns import (
    COUNT_COLUMNS,
    DUE_COLUMNS,
    MEDIAN_COLUMNS,
    RATIO_COLUMNS,
    SPEED_BUCKETS,
    TABLE_COLUMNS,
    seconds_between_sql,
    speed_bucket_conditions,
)
from .rollups import (
    MAY_REPEAT,
    RollupSlice,
    coverage_sql,
    rep_day_singles_sql,
    rep_sums_sql,
    rule_due_sql,
    rule_rep_months_sql,
)

TOTAL_KEY = -1
NO_TEAM = "No team"
T = TypeVar("T")
logger = logging.getLogger(__name__)


@contextmanager
def report_queries(*, snapshot: str | None = None):
    """Run a report's queries in one transaction; on Postgres without JIT and with room to sort.

    JIT compilation takes seconds on these big-costed but sub-second queries (measured with
    bench/reports.py); COUNT(DISTINCT …) and the median sort spill to disk at the default work_mem,
    and a year of assignments (~1 M rows, facts CTE and its sorts) still spilled ~35 MB at 64 MB:
    256 MB keeps them in memory (year page 12 s → 8 s). Local to the report's transaction.

    In one snapshot (REPEATABLE READ) when it opens the transaction: a figure that reads both the rollups and
    the assignments (reports/rollups.py) sees them as of the same moment, whatever a fold or a writer commits
    meanwhile. `snapshot`: a snapshot another connection's report transaction exported (side_by_side), read
    as of the same moment as that one.
    """
    fresh = not connection.in_atomic_block
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                if fresh:
                    cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                    if snapshot is not None:
                        if not SNAPSHOT_ID.fullmatch(snapshot):
                            raise ValueError(f"not a snapshot id: {snapshot!r}")
                        cursor.execute(f"SET TRANSACTION SNAPSHOT '{snapshot}'")  # takes no parameter
                cursor.execute("SET LOCAL jit = off; SET LOCAL work_mem = '256MB'")
        yield


SNAPSHOT_ID = re.compile(r"[0-9A-F]+-[0-9A-F]+(-[0-9]+)?")  # what pg_export_snapshot() returns


def second_connection_possible() -> bool:
    """Whether side_by_side can read on a second connection here: on Postgres, outside any transaction (another
    connection cannot see what an open transaction has not committed: a test's, or ATOMIC_REQUESTS)."""
    return connection.vendor == "postgresql" and not connection.in_atomic_block


def side_by_side(here: dict[str, Callable[[], T]], beside: dict[str, Callable[[], T]]) -> dict[str, T]:
    """Compute a report's figures, {name: compute}, in one report transaction: `beside` in a thread on a second
    connection while `here` runs on this one, where second_connection_possible(); else all of them here.

    Both read one snapshot (the second imports the first's: pg_export_snapshot), so the figures are those
    of one moment either way. On two cores a long period's page takes about half the time (bench/reports.py).
    When Postgres refuses the second connection (max_connections reached), `beside` runs here after `here`,
    in the same snapshot: slower, never a failed page. Each compute must return evaluated data, never a lazy
    QuerySet: its connection is closed after."""
    if not beside or not second_connection_possible():
        with report_queries():
            return {name: compute() for name, compute in {**here, **beside}.items()}
    with report_queries():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_export_snapshot()")
            [snapshot] = cursor.fetchone()
        # The pool waits for the thread on the way out, so the snapshot outlives its import even if `here` fails.
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="report-beside") as pool:
            pending = pool.submit(_on_second_connection, beside, snapshot)
            figures = {name: compute() for name, compute in here.items()}
            read_beside = pending.result()
            if read_beside is None:  # no second connection: the first one's transaction is still open
                figures.update((name, compute()) for name, compute in beside.items())
                return figures
    beside_figures, beside_queries = read_beside
    connection.queries_log.extend(beside_queries)  # DEBUG's connection.queries lists them too
    return {**figures, **beside_figures}


def _on_second_connection(work: dict[str, Callable[[], T]], snapshot: str) -> tuple[dict[str, T], list[dict]] | None:
    """In side_by_side's thread: `work` on this thread's own connection, in `snapshot`; then the connection closed.
    None when Postgres does not give the connection (a failure of the work itself is raised as it is)."""
    try:
        connection.ensure_connection()
    except OperationalError:
        logger.warning("A report's second database connection was refused; reading it on one.", exc_info=True)
        return None
    try:
        with report_queries(snapshot=snapshot):
            figures = {name: compute() for name, compute in work.items()}
        return figures, list(connection.queries_log)
    finally:
        connection.close()


# ----------------------------------------------------------------------------- per-rep table


# What the per-rep table reads of each assignment in the period: nothing else.
FACT_COLUMNS = (
    "lead_id",
    "rep_id",
    "created_at",
    "ended_at",
    "first_contacted_at",
    "converted_at",
    "misrouted_at",
    "reassigned_at",
    "first_decision",
)


def _period_sql(assignments: QuerySet[Assignment], columns: tuple[str, ...] = FACT_COLUMNS) -> tuple[str, tuple]:
    """SELECT of the period's assignments (`columns`, rep_id among them), with its params.

    On Postgres rep by rep, in rep id order: a LATERAL probe per rep of assignment_rep_facts_idx, which
    holds the facts, so the rows reach the per-rep grouping already in its order and are read from the
    index alone. Reading the period from its time index instead and sorting it by rep took 1.7–2.2 s
    for the year of bench/reports.py against 1.1–1.3 s, 0.11–0.16 s against 0.09 s for 30 days."""
    if connection.vendor != "postgresql":
        return assignments.order_by().values(*columns).query.sql_with_params()
    rep_t = connection.ops.quote_name(Rep._meta.db_table)
    per_rep = assignments.filter(rep_id=RawSQL("rp.id", ())).order_by()
    inner_sql, params = per_rep.values(*(c for c in columns if c != "rep_id")).query.sql_with_params()
    return f"SELECT rp.id AS rep_id, x.* FROM {rep_t} rp CROSS JOIN LATERAL ({inner_sql}) x", params


def assignment_facts_ctes(
    assignments: QuerySet[Assignment], *, rollups: RollupSlice | None = None
) -> tuple[str, tuple]:
    """Common table expressions (to follow WITH) and their params, ending in `facts`: one row per
    assignment with what the metrics need: r (rep), l (lead), lk (the lead when it may have several
    assignments in the period, else null), conv, contacted, speed, mis, moved, and w (1: an assignment the
    counts count) (the definitions are in the module docstring).

    One table's period slice, read from an index alone (_period_sql): first contact, conversion, the
    misrouted flag and the move to another rep within 7 days are kept on each Assignment at write time
    (routing.services.assignments), so no event and no other row is read.

    With `rollups` (Postgres), only what they do not hold: the assignments of the days not rolled up yet, and
    those of the other days whose lead may count twice, for its distinct counts alone (their speed, flags
    and w are null or false: the rollups count them).
    """
    speed = seconds_between_sql("a.first_contacted_at", "a.created_at")
    flags = "a.misrouted_at IS NOT NULL AS mis, a.reassigned_at IS NOT NULL AS moved, 1 AS w"
    if rollups is None:
        period_sql, params = _period_sql(assignments)
    else:
        stale = rollups.stale
        parts = [] if stale is None else [(assignments.filter(stale), "TRUE")]
        repeats = assignments.filter(MAY_REPEAT)
        parts.append((repeats if stale is None else repeats.exclude(stale), "FALSE"))
        selects, params = [], []
        for part, is_whole in parts:
            part_sql, part_params = part.order_by().values(*FACT_COLUMNS).query.sql_with_params()
            selects.append(f"SELECT p.*, {is_whole} AS whole FROM ({part_sql}) p")
            params.extend(part_params)
        period_sql, params = " UNION ALL ".join(selects), tuple(params)
        # The current days' rows are here for their distinct leads alone: the rollups count the rest of them.
        speed = f"CASE WHEN a.whole THEN {speed} END"
        flags = (
            "a.whole AND a.misrouted_at IS NOT NULL AS mis, a.whole AND a.reassigned_at IS NOT NULL AS moved,"
            " CASE WHEN a.whole THEN 1 END AS w"
        )
    # Elsewhere the rows come in time order: rep_id + 0 keeps an index on rep_id from passing for the GROUP
    # BY's order (walking it would fetch the rows one by one).
    rep = "a.rep_id" if connection.vendor == "postgresql" else "a.rep_id + 0"
    sql = (
        f"a AS ({period_sql}), "
        # lk: the lead when it may have several assignments in the period. Every assignment of a lead but its
        # last has ended (the writers end the current one first), and the last of several is not the lead's
        # first decision; an assignment that neither ended nor follows another is its lead's only one.
        f"facts AS (SELECT {rep} AS r, a.lead_id AS l,"
        " CASE WHEN a.ended_at IS NOT NULL OR NOT a.first_decision THEN a.lead_id END AS lk,"
        " a.converted_at IS NOT NULL AS conv, a.first_contacted_at IS NOT NULL AS contacted,"
        f" {speed} AS speed, {flags} FROM a)"
    )
    return sql, params


def _window_median_sql(fact: str) -> str:
    """Portable median (SQLite has no PERCENTILE_CONT): CTE `med(k, m)` from the middle row(s) by
    ROW_NUMBER over the facts that have `fact`, per rep (k = rep id) and over all (k = TOTAL_KEY)."""
    return (
        f"ranked AS (SELECT r AS k, {fact} AS v, ROW_NUMBER() OVER (PARTITION BY r ORDER BY {fact}) AS rn,"
        f" COUNT(*) OVER (PARTITION BY r) AS n FROM facts WHERE {fact} IS NOT NULL"
        f" UNION ALL SELECT {TOTAL_KEY}, {fact}, ROW_NUMBER() OVER (ORDER BY {fact}), COUNT(*) OVER ()"
        f" FROM facts WHERE {fact} IS NOT NULL),"
        " med AS (SELECT k, AVG(v) AS m FROM ranked WHERE rn IN ((n + 1) / 2, (n + 2) / 2) GROUP BY k)"
    )


_BUCKET_KEYS = [f"bucket_{i}" for i in range(len(SPEED_BUCKETS))]
_COUNT_KEYS = [column.key for column in COUNT_COLUMNS]
[_MEDIAN] = MEDIAN_COLUMNS  # one median (speed-to-lead); a second would need its own window CTE on SQLite


def _count_keys(speed_buckets: bool) -> list[str]:
    return _COUNT_KEYS + _BUCKET_KEYS if speed_buckets else _COUNT_KEYS


def _aggregates_sql(median: str, *, speed_buckets: bool) -> str:
    """The count columns (COUNT_COLUMNS, then the speed buckets if asked), then the median as m, over `facts`."""
    conditions = speed_bucket_conditions("speed") if speed_buckets else []
    buckets = [f"SUM(CASE WHEN {cond} THEN 1 ELSE 0 END) AS bucket_{i}" for i, cond in enumerate(conditions)]
    counts = [f"{column.sql} AS {column.key}" for column in COUNT_COLUMNS]
    return ", ".join([*counts, *buckets, f"{median} AS m"])


def _due_sql(
    due: QuerySet[Assignment], *, rollups: RollupSlice | None = None, reps: QuerySet[Rep] | None = None
) -> tuple[str, tuple]:
    """CTE `due(k, <DUE_COLUMNS>)`: the SLAs that fell due in the period and were settled, per rep
    (k = rep id) and over all (k = TOTAL_KEY). Read from the partial index on sla_due_at.

    With `rollups` (and `reps`, as assignment_metrics takes them): the current due days from the rollups
    (RepDueDayFigures), the others from the assignments."""
    if rollups is None:
        return _due_raw_sql(due, "due")
    fields = [(column.due_rollup, column.key) for column in DUE_COLUMNS]
    sums_sql, sums_params = rep_sums_sql(rollups, reps, fields, due=True)
    keys = [column.key for column in DUE_COLUMNS]
    stale = rollups.stale_due
    if stale is None:
        return f"due AS ({sums_sql})", sums_params
    raw_sql, raw_params = _due_raw_sql(due.filter(stale), "dueraw")
    added = ", ".join(f"COALESCE(x.{key}, 0) + COALESCE(y.{key}, 0) AS {key}" for key in keys)
    sql = (
        f"{raw_sql}, dsums AS ({sums_sql}), "
        f"due AS (SELECT COALESCE(x.k, y.k) AS k, {added} FROM dueraw x FULL JOIN dsums y ON y.k = x.k)"
    )
    return sql, (*raw_params, *sums_params)


def _due_raw_sql(due: QuerySet[Assignment], name: str) -> tuple[str, tuple]:
    """_due_sql from the assignments alone, as the CTE `name`."""
    settled = (
        due.filter(outcome=Assignment.Outcome.ASSIGNED)
        .filter(Q(sla_met_at__isnull=False) | Q(sla_breached_at__isnull=False))
        .order_by()
        .values("rep_id", "sla_met_at", "sla_breached_at")
    )
    settled_sql, params = settled.query.sql_with_params()
    counts = ", ".join(f"{column.due_sql} AS {column.key}" for column in DUE_COLUMNS)
    facts = (
        "SELECT rep_id + 0 AS r, sla_met_at IS NOT NULL AS met, sla_breached_at IS NOT NULL AS breached"
        f" FROM ({settled_sql}) s"
    )
    if connection.vendor == "postgresql":
        key = f"CASE WHEN GROUPING(r) = 1 THEN {TOTAL_KEY} ELSE r END"
        agg = f"SELECT {key} AS k, {counts} FROM dfacts GROUP BY ROLLUP(r)"
    else:
        agg = f"SELECT r AS k, {counts} FROM dfacts GROUP BY r UNION ALL SELECT {TOTAL_KEY}, {counts} FROM dfacts"
    return f"dfacts AS ({facts}), {name} AS ({agg})", params


def assignment_metrics(
    assignments: QuerySet[Assignment],
    due: QuerySet[Assignment],
    *,
    speed_buckets: bool = False,
    rollups: RollupSlice | None = None,
    reps: QuerySet[Rep] | None = None,
    medians: bool = True,
) -> dict[int, dict]:
    """The figures of reports.columns (counts, median, ratios) per rep id, plus the whole period
    under TOTAL_KEY, in one query. `assignments`: made in the period; `due`: SLA due in the period.

    `speed_buckets`: count the speed-to-lead histogram too (bucket_0…). Only the page's speed chart reads
    it, and its six counts cost a fifth of the query (the year of bench/reports.py: 0.97 → 0.76 s without).
    `medians`: False leaves the median empty, for speed_medians to read beside (side_by_side).

    With `rollups` (reports.rollups.rollup_slice of the same period; `reps` the reps the assignments are
    narrowed to, if any): the counts of the days rolled up come from the rollups, the rest from the
    assignments (assignment_facts_ctes), and the medians from every contacted assignment of the period."""
    ctes, params = assignment_facts_ctes(assignments, rollups=rollups)
    due_ctes, due_params = _due_sql(due, rollups=rollups, reps=reps)
    count_keys = _count_keys(speed_buckets)
    cols = ", ".join([*(f"agg.{key}" for key in count_keys), *(f"due.{column.key}" for column in DUE_COLUMNS)])
    if rollups is not None:
        # The assignments' counts and the rollups' added up per key; no median among them.
        raw = _aggregates_sql("NULL", speed_buckets=speed_buckets)
        fields = [(column.rollup, column.key) for column in COUNT_COLUMNS]
        fields += [(key, key) for key in _BUCKET_KEYS] if speed_buckets else []
        sums_sql, sums_params = rep_sums_sql(rollups, reps, fields)
        added = ", ".join(f"COALESCE(x.{key}, 0) + COALESCE(y.{key}, 0) AS {key}" for key in count_keys)
        agg = (
            f"rawagg AS (SELECT CASE WHEN GROUPING(r) = 1 THEN {TOTAL_KEY} ELSE r END AS k, {raw}"
            f" FROM facts GROUP BY ROLLUP(r)), sums AS ({sums_sql}), "
            f"agg AS (SELECT COALESCE(x.k, y.k) AS k, {added} FROM rawagg x FULL JOIN sums y ON y.k = x.k)"
        )
        med_cte, med_params, med_join, median_col = "", (), "", "NULL"
        if medians:
            med_cte, med_params = _medians_sql(assignments)
            med_cte, med_join, median_col = f", {med_cte}", " LEFT JOIN med ON med.k = keys.k", "med.m"
        sql = (
            f"WITH {ctes}, {agg}, {due_ctes}{med_cte}, keys AS (SELECT k FROM agg UNION SELECT k FROM due) "
            f"SELECT keys.k, {cols}, {median_col}{_ratios_sql()} FROM keys LEFT JOIN agg ON agg.k = keys.k"
            f" LEFT JOIN due ON due.k = keys.k{med_join}"
        )
        return _metrics_rows(sql, (*params, *sums_params, *due_params, *med_params), count_keys)
    med_cte, med_join, median_col = "", "", "agg.m"
    if connection.vendor == "postgresql":
        # Per rep and in total in one sorted pass (ROLLUP), the median with them.
        median = f"PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY {_MEDIAN.median})" if medians else "NULL"
        aggregates = _aggregates_sql(median, speed_buckets=speed_buckets)
        agg = (
            f"SELECT CASE WHEN GROUPING(r) = 1 THEN {TOTAL_KEY} ELSE r END AS k, {aggregates} "
            "FROM facts GROUP BY ROLLUP(r)"
        )
    else:
        aggregates = _aggregates_sql("NULL", speed_buckets=speed_buckets)
        agg = f"SELECT r AS k, {aggregates} FROM facts GROUP BY r UNION ALL SELECT {TOTAL_KEY}, {aggregates} FROM facts"
        if medians:
            med_cte, med_join = f", {_window_median_sql(_MEDIAN.median)}", " LEFT JOIN med ON med.k = keys.k"
            median_col = "med.m"
    # A rep can have SLAs due in the period without an assignment made in it (and the other way round).
    sql = (
        f"WITH {ctes}, agg AS ({agg}), {due_ctes}{med_cte}, keys AS (SELECT k FROM agg UNION SELECT k FROM due) "
        f"SELECT keys.k, {cols}, {median_col}{_ratios_sql()} FROM keys LEFT JOIN agg ON agg.k = keys.k"
        f" LEFT JOIN due ON due.k = keys.k{med_join}"
    )
    return _metrics_rows(sql, (*params, *due_params), count_keys)


def _medians_sql(assignments: QuerySet[Assignment]) -> tuple[str, tuple]:
    """Postgres: CTEs (to follow WITH) ending in `med(k, m)`, the median speed-to-lead per rep (k = rep id) and
    over all (k = TOTAL_KEY) of the contacted ones of `assignments`, read rep by rep (_period_sql)."""
    contacted = assignments.filter(first_contacted_at__isnull=False)
    # Only what a speed needs: read from the narrow index of the contacted assignments (assignment_contacted_idx).
    contacted_sql, params = _period_sql(contacted, ("rep_id", "created_at", "first_contacted_at"))
    speed = seconds_between_sql("c.first_contacted_at", "c.created_at")
    sql = (
        f"c AS ({contacted_sql}), med AS (SELECT CASE WHEN GROUPING(c.rep_id) = 1 THEN {TOTAL_KEY}"
        f" ELSE c.rep_id END AS k, PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY {speed}) AS m"
        " FROM c GROUP BY ROLLUP(c.rep_id))"
    )
    return sql, params


def speed_medians(assignments: QuerySet[Assignment]) -> dict[int, float]:
    """The median speed-to-lead of the period's assignments per rep id and over all (TOTAL_KEY), keys with no
    contacted assignment left out: the table's median column alone, to be read beside its counts
    (side_by_side, rep_report(medians=False), with_medians)."""
    assignments = assignments.filter(outcome=Assignment.Outcome.ASSIGNED)
    if connection.vendor == "postgresql":
        ctes, params = _medians_sql(assignments)
    else:
        facts, params = assignment_facts_ctes(assignments)
        ctes = f"{facts}, {_window_median_sql(_MEDIAN.median)}"
    with connection.cursor() as cursor:
        cursor.execute(f"WITH {ctes} SELECT k, m FROM med", params)
        return {int(key): float(value) for key, value in cursor.fetchall() if value is not None}


def with_medians(report: RepReport, medians: dict[int, float]) -> RepReport:
    """`report` (rep_report(medians=False)) with the medians speed_medians read for the same filters."""
    for row in report.rows:
        setattr(row, _MEDIAN.key, medians.get(row.rep_id))
    setattr(report.total, _MEDIAN.key, medians.get(TOTAL_KEY))
    return report


def _ratios_sql() -> str:
    return "".join(f", CAST({num} AS FLOAT) / NULLIF({den}, 0)" for num, den in (c.ratio for c in RATIO_COLUMNS))


def _metrics_rows(sql: str, params: tuple, count_keys: list[str]) -> dict[int, dict]:
    """Run the metrics query; its rows (key, counts…, due counts…, median, ratios…) as {key: {figure: value}}."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    out = {}
    counts = [*count_keys, *(column.key for column in DUE_COLUMNS)]
    fractions = [_MEDIAN.key, *(column.key for column in RATIO_COLUMNS)]
    for key, *values in rows:
        item = {name: int(value or 0) for name, value in zip(counts, values, strict=False)}
        for name, value in zip(fractions, values[len(counts) :], strict=True):
            item[name] = None if value is None else float(value)
        out[int(key)] = item
    return out


def _empty_metrics(speed_buckets: bool) -> dict:
    counts = [*_count_keys(speed_buckets), *(column.key for column in DUE_COLUMNS)]
    return {**dict.fromkeys(counts, 0), _MEDIAN.key: None, **{c.key: None for c in RATIO_COLUMNS}}


def reps_with_load(reps: QuerySet[Rep]) -> QuerySet:
    """The reps as plain rows (dicts): id, name, e-mail, team name, active, capacity, open leads now
    (`open_now`) and whether they are away (`away_until`). Plain rows, not Rep instances: 500 reps took
    28 ms as instances with their teams, 18 ms as rows (bench/reports.py's data).

    Open leads are counted per rep from the (owner, status) index alone (an index-only scan);
    a join would visit every open lead's row. Load and the totals are worked out from `open_now`
    in Python (`rep_load`): referring to the annotation in SQL repeats its subquery per use (three
    counts per rep, 47 ms for 500 reps on bench/reports.py, where one takes a third of that).
    """
    open_now = (
        Lead.objects.filter(owner=OuterRef("pk"), status=LeadStatus.ASSIGNED)
        .order_by()
        .values("owner")
        .annotate(n=Count("*"))
        .values("n")
    )
    now = timezone.now()
    away_until = TimeOff.objects.filter(rep=OuterRef("pk"), start__lte=now, end__gt=now).order_by("-end").values("end")
    return (
        reps.annotate(open_now=Coalesce(Subquery(open_now, output_field=IntegerField()), 0))
        .annotate(away_until=Subquery(away_until[:1]))
        .values("pk", "name", "email", "team__name", "active", "capacity", "open_now", "away_until")
    )


def rep_load(open_now: int, capacity: int) -> float | None:
    """Load = open leads ÷ capacity; none for a capacity of 0."""
    return open_now / capacity if capacity else None


@dataclass
class RepRow:
    """A rep's figures (or the totals'): one attribute per reports.columns.COLUMNS key, plus the speed
    buckets when they were asked for (rep_report's speed_buckets; else empty)."""

    rep_id: int | None
    name: str
    email: str
    team: str
    open: int
    capacity: int
    load: float | None
    assigned: int = 0
    converted: int = 0
    contacted: int = 0
    assignments: int = 0
    misrouted: int = 0
    reassigned: int = 0
    within_5_min: int = 0
    median_speed: float | None = None
    conversion_rate: float | None = None
    assignment_accuracy: float | None = None
    within_5_min_share: float | None = None
    sla_due: int = 0
    sla_met: int = 0
    sla_breaches: int = 0
    sla_met_rate: float | None = None
    buckets: list[int] = field(default_factory=list)
    mark: str = ""  # "inactive", "away until 12 Mar": why a rep may show few leads

    @property
    def label(self) -> str:
        """The rep's name with its mark, for charts."""
        return f"{self.name} ({self.mark})" if self.mark else self.name


@dataclass
class RepReport:
    rows: list[RepRow]
    total: RepRow


def _row(base: dict, metrics: dict) -> RepRow:
    """The metrics hold the speed buckets when they were asked for (else RepRow.buckets stays empty)."""
    buckets = [metrics.pop(key) for key in _BUCKET_KEYS if key in metrics]
    return RepRow(**base, **metrics, buckets=buckets)


def rep_mark(*, active: bool, away_until: dt.datetime | None) -> str:
    if not active:
        return "inactive"
    if away_until:
        until = timezone.localtime(away_until)
        return f"away until {until.day} {until:%b}"
    return ""


def rep_report(
    *,
    assignments: QuerySet[Assignment],
    due: QuerySet[Assignment],
    reps: QuerySet[Rep],
    speed_buckets: bool = False,
    rollups: RollupSlice | None = None,
    narrowed: bool = False,
    medians: bool = True,
) -> RepReport:
    """One row per rep (active, or with assignments in the period) and a totals row. Two queries.

    `assignments`: made in the period (filters.qs); `due`: whose SLA fell due in it (filters.sla_due());
    `speed_buckets`: with each row's speed-to-lead histogram (RepRow.buckets), which the page charts;
    `rollups`: the counts of the days rolled up read from them (assignment_metrics; `narrowed`: the
    assignments are those of `reps` only, a team or territory being chosen); `medians`: False leaves the
    median column empty, for speed_medians to read beside (with_medians puts them in).
    An inactive rep whose only SLA due in the period was assigned before it counts in the total only:
    looking the due slice up for the rows too would read it twice."""
    assignments = assignments.filter(outcome=Assignment.Outcome.ASSIGNED)
    metrics = assignment_metrics(
        assignments,
        due,
        speed_buckets=speed_buckets,
        rollups=rollups,
        reps=reps.all() if narrowed else None,
        medians=medians,
    )
    # The reps with assignments in the period are the metrics' own keys: no second look at the period.
    assigned_to = [key for key, item in metrics.items() if key != TOTAL_KEY and item["assignments"]]
    reps = reps_with_load(reps.filter(Q(active=True) | Q(pk__in=assigned_to)))
    rows, total_open, total_capacity = [], 0, 0
    for rep in reps.order_by("name", "pk"):
        open_now, capacity = rep["open_now"], rep["capacity"]
        rows.append(
            _row(
                {
                    "rep_id": rep["pk"],
                    "name": rep["name"],
                    "email": rep["email"],
                    "team": rep["team__name"] or "",
                    "open": open_now,
                    "capacity": capacity,
                    "load": rep_load(open_now, capacity),
                    "mark": rep_mark(active=rep["active"], away_until=rep["away_until"]),
                },
                dict(metrics.get(rep["pk"]) or _empty_metrics(speed_buckets)),
            )
        )
        total_open, total_capacity = total_open + open_now, total_capacity + capacity
    total = _row(
        {
            "rep_id": None,
            "name": "All reps",
            "email": "",
            "team": "",
            "open": total_open,
            "capacity": total_capacity,
            "load": rep_load(total_open, total_capacity),
        },
        dict(metrics.get(TOTAL_KEY) or _empty_metrics(speed_buckets)),
    )
    return RepReport(rows=rows, total=total)


def sort_rows(rows: list[RepRow], sort: str) -> list[RepRow]:
    """Order rows by a column (`-column` for descending); empty values always last."""
    key = sort.lstrip("-")
    if key not in {column.key for column in TABLE_COLUMNS}:
        return rows
    present = [r for r in rows if getattr(r, key) is not None]
    missing = [r for r in rows if getattr(r, key) is None]
    present.sort(
        key=lambda r: (getattr(r, key).casefold() if isinstance(getattr(r, key), str) else getattr(r, key), r.name),
        reverse=sort.startswith("-"),
    )
    return present + missing


# ----------------------------------------------------------------------------- charts


def leads_per_day_by_team(
    assignments: QuerySet[Assignment], *, rollups: RollupSlice | None = None, reps: QuerySet[Rep] | None = None
) -> list[dict]:
    """Distinct leads assigned per day (server zone) and team: [{day, team_name, leads}].

    Without COUNT(DISTINCT) over the slice: only a lead with several assignments in the period can count
    twice in a day and team, and each of its rows is marked as the facts' `lk` marks it (ended, or not
    the lead's first decision; see assignment_facts_ctes); the other rows are their lead's only one, so
    the whole slice is counted by hash aggregates, with no sort and no second read of the period.

    With `rollups` (reports.rollups.rollup_slice for the same period; `reps` the reps the assignments are
    narrowed to, if any): the leads that count once on the days whose rollups are current come from the
    rollups; the assignments are read for the other days, and for the leads that may count twice."""
    assigned = assignments.filter(outcome=Assignment.Outcome.ASSIGNED)
    if rollups is None:
        parts = [assigned]
    else:
        stale = rollups.stale
        repeats = assigned.filter(MAY_REPEAT)
        parts = [repeats] if stale is None else [assigned.filter(stale), repeats.exclude(stale)]
    # Grouped by the team's id, named after (team names are unique): hashing a number per row, not a name.
    selects, params = [], []
    for part in parts:
        rows = (
            part.order_by()
            .annotate(day=TruncDate("created_at"), team=F("rep__team_id"))
            .values("day", "team", "lead_id", "ended_at", "first_decision")
        )
        rows_sql, rows_params = rows.query.sql_with_params()
        selects.append(rows_sql)
        params.extend(rows_params)
    per = (
        "SELECT s.day, s.team, CASE WHEN s.ended_at IS NOT NULL OR NOT s.first_decision THEN s.lead_id END AS lk,"
        f" COUNT(*) AS n FROM ({' UNION ALL '.join(selects)}) s GROUP BY 1, 2, 3"
    )
    if rollups is not None:
        singles_sql, singles_params = rep_day_singles_sql(rollups, reps)
        per = f"{per} UNION ALL {singles_sql}"
        params.extend(singles_params)
    team_t = Team._meta.db_table
    sql = (
        f"WITH per AS ({per}), "
        "days AS (SELECT day, team, SUM(CASE WHEN lk IS NULL THEN n ELSE 1 END) AS leads FROM per GROUP BY 1, 2) "
        f"SELECT d.day, COALESCE(t.name, %s) AS team_name, d.leads FROM days d LEFT JOIN {team_t} t ON t.id = d.team"
        " WHERE d.leads > 0 ORDER BY 1, 2"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, (*params, NO_TEAM))
        return [
            {"day": day if isinstance(day, dt.date) else dt.date.fromisoformat(day), "team_name": team, "leads": int(n)}
            for day, team, n in cursor.fetchall()
        ]


def sources_seen(*, since: dt.datetime, until: dt.datetime) -> list[str]:
    """Lead sources seen in the period, for the source filter's suggestions.

    A skip scan of the (source, created_at) index: each source there is, then whether it has a lead in the
    period, two index probes per source (a handful, or a few hundred), where DISTINCT over the period read
    all its leads (80,000 for 30 days of bench/reports.py, 16 ms; a million for the year, 0.14 s)."""
    lead_t = connection.ops.quote_name(Lead._meta.db_table)
    sql = (
        f"WITH RECURSIVE src(source) AS (SELECT MIN(source) FROM {lead_t}"
        f" UNION ALL SELECT (SELECT MIN(l.source) FROM {lead_t} l WHERE l.source > src.source)"
        " FROM src WHERE src.source IS NOT NULL) "
        "SELECT source FROM src WHERE source IS NOT NULL AND EXISTS (SELECT 1 FROM"
        f" {lead_t} l WHERE l.source = src.source AND l.created_at >= %s AND l.created_at < %s) ORDER BY source"
    )
    period = [connection.ops.adapt_datetimefield_value(moment) for moment in (since, until)]  # SQLite: its text form
    with connection.cursor() as cursor:
        cursor.execute(sql, period)
        return [source for (source,) in cursor.fetchall()]


# ----------------------------------------------------------------------------- routing health


@dataclass
class Coverage:
    by_rule: list[dict]  # [{label, kind, leads, share}]
    rule: int
    fallback: int
    unroutable: int
    decided: int
    not_routed: int

    def _share(self, count: int) -> float | None:
        return count / self.decided if self.decided else None

    @property
    def rule_share(self) -> float | None:
        return self._share(self.rule)

    @property
    def fallback_share(self) -> float | None:
        return self._share(self.fallback)

    @property
    def unroutable_share(self) -> float | None:
        return self._share(self.unroutable)


_DECISION_COLUMNS = "outcome, decided_by, rule_id, strategy, rule_name"


def rule_coverage(
    *,
    since: dt.datetime,
    until: dt.datetime,
    source: str = "",
    reps: QuerySet[Rep] | None = None,
    rollups: RollupSlice | None = None,
) -> Coverage:
    """How the first routing decision of each lead that came in in [since, until) (from `source`, when given)
    was made. Two queries.

    `reps` (a team or territory chosen): only the leads whose first decision went to one of them; leads
    still pending belong to no rep then and are not counted.

    The writers flag each lead's first decision (Assignment.first_decision) and keep the lead's time on it
    (lead_created_at), so the period's first decisions are read from their own partial index, without the
    leads (joined only for a source), and grouped on their raw columns; only the few groups are named and
    classed.

    With `rollups` (reports.rollups.rollup_slice of the same period) and neither a source nor reps chosen
    (the rollups hold neither): the groups of the current lead days come from the rollups, the others from
    the assignments.
    """
    if source or reps is not None:
        rollups = None
    firsts = Assignment.objects.filter(first_decision=True, lead_created_at__gte=since, lead_created_at__lt=until)
    if source:
        firsts = firsts.filter(lead__source=source)
    if reps is not None:
        firsts = firsts.filter(rep__in=reps.order_by().values("pk"))
    if rollups is not None:
        stale = rollups.stale_lead
        firsts = firsts.filter(stale) if stale is not None else None
    parts = []
    if firsts is not None:
        grouped = firsts.order_by().values(*_DECISION_COLUMNS.split(", ")).annotate(n=Count("*"))
        parts.append(grouped.query.sql_with_params())
    if rollups is not None:
        parts.append(coverage_sql(rollups))
    decisions_sql = " UNION ALL ".join(f"SELECT {_DECISION_COLUMNS}, n FROM ({sql}) p" for sql, _ in parts)
    params = tuple(param for _, part_params in parts for param in part_params)
    unroutable, user = Assignment.Outcome.UNROUTABLE.value, Assignment.DecidedBy.USER.value
    condition_t, rule_t = RuleCondition._meta.db_table, Rule._meta.db_table
    sql = (
        f"WITH decisions AS ({decisions_sql}) "
        "SELECT CASE WHEN d.outcome = %s THEN 'unroutable' WHEN d.decided_by = %s THEN 'fallback'"
        f" WHEN d.rule_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM {condition_t} rc WHERE rc.rule_id = d.rule_id)"
        " THEN 'fallback' ELSE 'rule' END AS kind,"
        " CASE WHEN d.outcome = %s THEN 'Unroutable' WHEN d.decided_by = %s THEN 'Manual (by a user)'"
        " WHEN d.strategy = 'existing_owner' AND d.rule_id IS NULL THEN 'Existing owner'"
        " ELSE COALESCE(ru.name, d.rule_name) END AS label, SUM(d.n) AS leads"
        f" FROM decisions d LEFT JOIN {rule_t} ru ON ru.id = d.rule_id"
        " GROUP BY 1, 2 ORDER BY 3 DESC, 2"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, (*params, unroutable, user, unroutable, user))
        rows = [{"kind": kind, "label": label, "leads": int(leads)} for kind, label, leads in cursor.fetchall()]
    totals = {"rule": 0, "fallback": 0, "unroutable": 0}
    for row in rows:
        totals[row["kind"]] += row["leads"]
    decided = sum(totals.values())
    for row in rows:
        row["share"] = row["leads"] / decided if decided else None
    not_routed = 0
    if reps is None:
        pending = Lead.objects.filter(status=LeadStatus.PENDING, created_at__gte=since, created_at__lt=until)
        not_routed = (pending.filter(source=source) if source else pending).count()
    return Coverage(by_rule=rows, decided=decided, not_routed=not_routed, **totals)


def pool_rules(reps: QuerySet[Rep]) -> QuerySet[Rule]:
    """Rules whose pool holds one of `reps` (listed, or through the pool team)."""
    return Rule.objects.filter(
        Q(pk__in=RulePoolRep.objects.filter(rep__in=reps).values("rule_id"))
        | Q(pool_team__in=reps.order_by().values("team_id"))
    )


def waiting_now(leads: QuerySet[Lead], *, reps: QuerySet[Rep] | None = None) -> dict:
    """Unroutable and pooled leads waiting now, and since when the oldest unroutable one waits.

    `reps` (a team or territory chosen): the leads waiting in pools those reps belong to; no unroutable
    lead (it has no rep, so no team: None)."""
    if reps is None:
        # Counting the status, not the id: read from the (status, created_at) index alone, not the leads' rows.
        return leads.filter(status__in=[LeadStatus.UNROUTABLE, LeadStatus.POOLED]).aggregate(
            unroutable=Count("status", filter=Q(status=LeadStatus.UNROUTABLE)),
            pooled=Count("status", filter=Q(status=LeadStatus.POOLED)),
            oldest_unroutable=Min("created_at", filter=Q(status=LeadStatus.UNROUTABLE)),
        )
    held = Assignment.objects.filter(
        lead=OuterRef("pk"),
        outcome=Assignment.Outcome.POOLED,
        ended_at__isnull=True,
        rule__in=pool_rules(reps).values("pk"),
    )
    pooled = leads.filter(status=LeadStatus.POOLED).filter(Exists(held)).count()
    return {"unroutable": None, "pooled": pooled, "oldest_unroutable": None}


def never_fired(decisions: QuerySet[Assignment]) -> list[dict]:
    """Active rules with no decision among `decisions` (the period's, for the chosen source), in priority order."""
    fired = decisions.filter(rule=OuterRef("pk"))
    return list(
        Rule.objects.active()
        .filter(~Exists(fired))
        .order_by("priority", "id")
        .values("id", "name", "priority", "strategy", "sla_minutes")
    )


# How uneven a rotation may look over a period before the page calls it uneven. A strict rotation
# gives every member the same count within one lead (in a weighted pool, counts are divided by the
# weight, so one lead of the lightest member is 1 ÷ its weight). Members who joined or left the
# pool, were away, outside working hours or at capacity or their daily cap are skipped by the
# rotation and never catch up, so a spread of a tenth of the average per member (at least one more
# lead) is allowed on top. Other strategies are uneven by design and never flagged.
FAIRNESS_SHARE = 0.10
ROTATIONS = (ROUND_ROBIN, WEIGHTED)


def _fairness_flag(pool: dict) -> str:
    if pool["strategy"] not in ROTATIONS:
        return ""
    if pool["per_territory_rotation"]:
        # One rotation per matched territory (a cursor each): reps of different territories are not one
        # rotation, so their counts across the rule say nothing about fairness.
        return ""
    step = 1 / pool["lightest"] if pool["lightest"] else 1.0
    allowed = step + max(1.0, FAIRNESS_SHARE * pool["mean"])
    pool["allowed"] = allowed
    if pool["spread"] <= allowed + 1e-9:
        return ""
    unit = "leads ÷ weight" if pool["strategy"] == WEIGHTED else "leads"
    return (
        f"Uneven: {pool['most']:.1f} vs {pool['least']:.1f} {unit}, a spread of {pool['spread']:.1f} where "
        f"{STRATEGY_LABELS[pool['strategy']].lower()} allows about {allowed:.1f} (one lead, plus "
        f"{FAIRNESS_SHARE:.0%} of the average for reps away, at capacity, or joining during the period)."
    )


def pool_fairness(
    *,
    assignments: QuerySet[Assignment],
    reps: QuerySet[Rep],
    rollups: RollupSlice | None = None,
    narrowed: bool = False,
) -> list[dict]:
    """Per rule that assigned leads in the period: most/least per pool member and the spread, the leads
    divided by the rep's weight in weighted pools (plain round robin ignores weights), and a flag in
    words when a rotation is more uneven than it allows (FAIRNESS_SHARE).

    With `rollups` (reports.rollups.rollup_slice of the period; `narrowed`: the assignments are those of `reps`
    only): the counts of the whole months it holds from the rollups (RuleRepMonthFigures), the other days'
    from the assignments."""
    decided = assignments.filter(
        outcome=Assignment.Outcome.ASSIGNED, decided_by=Assignment.DecidedBy.ENGINE, rule__isnull=False
    )
    months = rule_rep_months_sql(rollups, reps.all() if narrowed else None) if rollups is not None else None
    if months is not None:
        decided = decided.exclude(rollups.in_whole_months)
    got = decided.order_by().values("rule_id", "rep_id").annotate(ru=F("rule_id"), re=F("rep_id"), n=Count("id"))
    got = got.values("ru", "re", "n")
    listed = RulePoolRep.objects.order_by().annotate(ru=F("rule_id"), re=F("rep_id")).values("ru", "re")
    team = (
        Rule.objects.filter(pool_team__isnull=False)
        .order_by()
        .annotate(ru=F("pk"), re=F("pool_team__reps__pk"))
        .filter(re__isnull=False)
        .values("ru", "re")
    )
    in_scope = reps.order_by().values("pk")
    parts = [q.query.sql_with_params() for q in (got, listed, team, in_scope)]
    (got_sql, got_p), (listed_sql, listed_p), (team_sql, team_p), (scope_sql, scope_p) = parts
    if months is not None:
        months_sql, months_p = months
        both = f"{got_sql} UNION ALL {months_sql}"
        got_sql = f"SELECT ru, re, CAST(SUM(n) AS bigint) AS n FROM ({both}) g GROUP BY ru, re"
        got_p = (*got_p, *months_p)
    rep_t, rule_t = Rep._meta.db_table, Rule._meta.db_table
    weight = f"CASE WHEN rl.strategy = '{WEIGHTED}' THEN CAST(rp.weight AS FLOAT) ELSE 1.0 END"
    sql = (
        f"WITH got AS ({got_sql}), "
        f"members AS (SELECT ru, re FROM got UNION SELECT ru, re FROM ({listed_sql}) x"
        f" UNION SELECT ru, re FROM ({team_sql}) y), "
        "adjusted AS ("
        f" SELECT m.ru, CAST(COALESCE(g.n, 0) AS FLOAT) / {weight} AS v, {weight} AS w, COALESCE(g.n, 0) AS n"
        f" FROM members m JOIN {rep_t} rp ON rp.id = m.re JOIN {rule_t} rl ON rl.id = m.ru"
        " LEFT JOIN got g ON g.ru = m.ru AND g.re = m.re"
        f" WHERE m.ru IN (SELECT ru FROM got) AND (rp.active OR g.n IS NOT NULL) AND m.re IN ({scope_sql}))"
        " SELECT ru.id, ru.name, ru.strategy, COUNT(*), SUM(a.n), MAX(a.v), MIN(a.v), MAX(a.v) - MIN(a.v),"
        " MIN(a.w), AVG(a.v), ru.pool_matched_territory"
        f" FROM adjusted a JOIN {rule_t} ru ON ru.id = a.ru"
        " GROUP BY ru.id, ru.name, ru.strategy, ru.priority, ru.pool_matched_territory ORDER BY ru.priority, ru.id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, (*got_p, *listed_p, *team_p, *scope_p))
        names = ["rule_id", "rule", "strategy", "reps", "leads"]
        pools = []
        for row in cursor.fetchall():
            most, least, spread, lightest, mean = (float(v) for v in row[5:10])
            pool = {**dict(zip(names, row, strict=False)), "most": most, "least": least, "spread": spread}
            pool.update(lightest=lightest, mean=mean, strategy_label=STRATEGY_LABELS.get(row[2], row[2]))
            pool["per_territory_rotation"] = bool(row[10]) and row[2] in ROTATIONS
            pool["flag"] = _fairness_flag(pool)
            pools.append(pool)
        return pools


# ----------------------------------------------------------------------------- SLA card

DUE_SOON = dt.timedelta(hours=1)  # "due now": overdue and not yet breached, or due within the hour
WORST_RULES = 5


@dataclass
class SlaHealth:
    due: int  # SLAs that fell due in the period and were settled (met or breached), or pooled leads claimed in time
    breaches: int
    pooled_breaches: int  # of the breaches: pooled leads nobody claimed in time
    overdue: int  # current, past due, not settled yet (the watch runs every minute)
    due_within_hour: int
    worst_rules: list[dict]  # [{rule_id, rule, due, breaches, rate}] most breaches first

    @property
    def met_rate(self) -> float | None:
        return (self.due - self.breaches) / self.due if self.due else None

    @property
    def due_now(self) -> int:
        return self.overdue + self.due_within_hour


def sla_health(
    *,
    due: QuerySet[Assignment],
    current: QuerySet[Assignment],
    now: dt.datetime | None = None,
    rollups: RollupSlice | None = None,
) -> SlaHealth:
    """The routing-health panel's SLA card. Two queries.

    `due`: assignments and poolings whose SLA fell due in the period (filters.sla_due()); the breaches are
    counted per rule (the total is their sum). `current`: the filters' assignments whatever their time; of
    those still current with an SLA not yet settled, the ones past due or due within DUE_SOON.
    `rollups` (reports.rollups.rollup_slice of the period; for `due` with no team, territory or source): the
    current due days' counts from the rollups (RuleDueDayFigures), the others from the assignments.
    """
    now = now or timezone.now()
    breached = Q(sla_breached_at__isnull=False)
    # A pooled lead meets its SLA by being claimed (PRODUCT.md): the claim ends the pooling, so the
    # watch never settles it; a pooling that ended by its due time counts as met here.
    claimed = Q(outcome=Assignment.Outcome.POOLED, ended_at__isnull=False, ended_at__lte=F("sla_due_at"))
    # Grouped on the raw columns from the SLA index alone; only the few groups are named (a rule renamed
    # since reads under its name now): naming each row first took 15.6 ms for 30 days of bench/reports.py.
    grouped = (
        due.filter(Q(sla_met_at__isnull=False) | breached | claimed)
        .order_by()
        .values("rule_id", "rule_name")
        .annotate(
            due=Count("pk"),
            breaches=Count("pk", filter=breached),
            pooled=Count("pk", filter=breached & Q(outcome=Assignment.Outcome.POOLED)),
        )
    )
    parts: list[tuple[str, tuple]] = []
    if rollups is None:
        parts.append(grouped.query.sql_with_params())
    else:
        if rollups.stale_due is not None:
            parts.append(grouped.filter(rollups.stale_due).query.sql_with_params())
        parts.append(rule_due_sql(rollups))
    grouped_sql = " UNION ALL ".join(f"SELECT * FROM ({sql}) p{i}" for i, (sql, _) in enumerate(parts))
    grouped_params = tuple(param for _, params in parts for param in params)
    rule_t = Rule._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT g.rule_id, COALESCE(ru.name, g.rule_name), g.due, g.breaches, g.pooled FROM ({grouped_sql}) g"
            f" LEFT JOIN {rule_t} ru ON ru.id = g.rule_id",
            grouped_params,
        )
        names = ("rule_id", "label", "due", "breaches", "pooled")
        by_rule = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    # Read in due-time order: Postgres then walks the open-SLA partial index (a few dozen entries). Asked
    # for a bare count it misjudges the open share (the columns' NULLs are estimated as independent) and
    # scans the whole table: 80 ms vs 0.2 ms on bench/reports.py's year.
    open_due = (
        current.filter(ended_at__isnull=True, sla_met_at__isnull=True, sla_breached_at__isnull=True)
        .filter(sla_due_at__isnull=False, sla_due_at__lt=now + DUE_SOON)
        .order_by("sla_due_at")
        .values("sla_due_at")
    )
    open_sql, open_params = open_due.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT COALESCE(SUM(CASE WHEN d.sla_due_at < %s THEN 1 ELSE 0 END), 0),"
            f" COALESCE(SUM(CASE WHEN d.sla_due_at >= %s THEN 1 ELSE 0 END), 0) FROM ({open_sql}) d",
            (*[connection.ops.adapt_datetimefield_value(now)] * 2, *open_params),  # SQLite: its text form
        )
        overdue, within = cursor.fetchone()
    soon = {"overdue": int(overdue), "within": int(within)}
    rules: dict = {}
    for row in by_rule:  # one rule may appear under several stored names
        key = row["rule_id"] or row["label"]
        item = rules.setdefault(
            key, {"rule_id": row["rule_id"], "rule": row["label"], "due": 0, "breaches": 0, "pooled": 0}
        )
        for key in ("due", "breaches", "pooled"):
            item[key] += row[key]
    worst = sorted((r for r in rules.values() if r["breaches"]), key=lambda r: (-r["breaches"], r["rule"] or ""))
    for rule in worst:
        rule["rate"] = rule["breaches"] / rule["due"]
    return SlaHealth(
        due=sum(r["due"] for r in rules.values()),
        breaches=sum(r["breaches"] for r in rules.values()),
        pooled_breaches=sum(r["pooled"] for r in rules.values()),
        overdue=soon["overdue"],
        due_within_hour=soon["within"],
        worst_rules=worst[:WORST_RULES],
    )
