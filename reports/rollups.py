"""Report rollups, kept from the assignments so that a long period's figures need not read every assignment
of it: each rep's additive counts per day (RepDayFigures), each rep's settled SLAs per due day
(RepDueDayFigures), both also per month (RepMonthFigures, RepDueMonthFigures: the sums of the days), each
rule's settled SLAs per due day (RuleDueDayFigures), the engine's assignments per rule and rep and month with
running totals (RuleRepMonthFigures), the leads' first decisions per day the lead came in
(CoverageDayFigures). Postgres only;
elsewhere every report reads the assignments (reports/selectors.py), which stays the definition the
rollups are held to (reports/tests/test_rollups.py).

How they stay exact without any writer knowing of them:

* A trigger on the assignments (migrations reports 0003–0008) logs, for every statement that inserts or
  deletes rows or changes one of their report facts, the span of the rows' times of each kind it touches
  (RollupChange: the assignment's time, the SLA due time, the lead's time), in the writer's own
  transaction. The log is append-only, so concurrent writers (the router's batches) never wait on one
  another for it.
* `rollups_fold` (a job every minute, routing.cron) reads the log first, then rebuilds every day a logged
  span touches from the assignments, then deletes exactly the log rows it read. A change committed while
  it runs keeps its log row, so its day stays out of date until the next fold.
* A report reads, in one snapshot (selectors.report_queries), the days the log still names in its period
  from the assignments and the other days from the rollups (`rollup_slice`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, models, transaction
from django.db.models import Q, QuerySet

from reports.columns import FAST_CONTACT_SECONDS, seconds_between_sql, speed_bucket_conditions
from reports.filters import day_start
from reports.models import (
    CoverageDayFigures,
    RepDayFigures,
    RepDueDayFigures,
    RepDueMonthFigures,
    RepMonthFigures,
    RollupChange,
    RollupState,
    RuleDueDayFigures,
    RuleRepMonthFigures,
)
from reps.models import Rep
from routing.models import Assignment

FOLD_LOCK = 8_421_803  # pg_advisory_xact_lock key: one fold at a time
ROLLUPS = (
    RepDayFigures,
    RepMonthFigures,
    RuleRepMonthFigures,
    RepDueDayFigures,
    RepDueMonthFigures,
    RuleDueDayFigures,
    CoverageDayFigures,
)

# The rows whose lead may count twice in a period: every assignment of a lead but its last has ended, and
# the last of several is not the lead's first decision (reports.selectors.assignment_facts_ctes, its `lk`).
# The rollups count the other rows; these are read from their own partial index (assignment_repeats_idx).
MAY_REPEAT = Q(ended_at__isnull=False) | Q(first_decision=False)


@dataclass(frozen=True)
class RollupSlice:
    """A period as the rollups can serve it: its days whose rollups are current, and the others."""

    start: dt.date
    end: dt.date
    stale_days: tuple[dt.date, ...]  # days of the period whose assignments' changes are not folded yet
    stale_due_days: tuple[dt.date, ...] = ()  # … whose SLAs due have changes not folded yet
    stale_lead_days: tuple[dt.date, ...] = ()  # … whose leads' first decisions have changes not folded yet

    @property
    def stale(self) -> Q | None:
        """The stale days as a condition on Assignment.created_at (None: no stale day)."""
        return _days_q("created_at", self.stale_days)

    @property
    def whole_months(self) -> tuple[dt.date, ...]:
        """The months (their first days) wholly inside the period with no stale day: what the month rollups of
        the assignments' times serve (RepMonthFigures, RuleRepMonthFigures)."""
        return self._whole_months(self.stale_days)

    @property
    def whole_due_months(self) -> tuple[dt.date, ...]:
        """… with no stale due day: what RepDueMonthFigures serves."""
        return self._whole_months(self.stale_due_days)

    def _whole_months(self, stale: tuple[dt.date, ...]) -> tuple[dt.date, ...]:
        months, month = [], _next_month(self.start) if self.start.day > 1 else self.start
        while _next_month(month) - dt.timedelta(days=1) <= self.end:
            if not any(month <= day < _next_month(month) for day in stale):
                months.append(month)
            month = _next_month(month)
        return tuple(months)

    @property
    def in_whole_months(self) -> Q | None:
        """The whole_months as a condition on Assignment.created_at (None: no such month)."""
        return _days_q("created_at", tuple(day for month in self.whole_months for day in _month_of(month)))

    @property
    def stale_due(self) -> Q | None:
        """The stale due days as a condition on Assignment.sla_due_at (None: no stale day)."""
        return _days_q("sla_due_at", self.stale_due_days)

    @property
    def stale_lead(self) -> Q | None:
        """The stale lead days as a condition on Assignment.lead_created_at (None: no stale day)."""
        return _days_q("lead_created_at", self.stale_lead_days)


def _days_q(field: str, days: tuple[dt.date, ...]) -> Q | None:
    q = None
    for first, last in _runs(days):
        span = Q(**{f"{field}__gte": day_start(first), f"{field}__lt": day_start(last + dt.timedelta(days=1))})
        q = span if q is None else q | span
    return q


def _next_month(day: dt.date) -> dt.date:
    """The first day of the month after `day`'s."""
    return (day.replace(day=1) + dt.timedelta(days=32)).replace(day=1)


def _runs(
    days: tuple[dt.date, ...], step: Callable[[dt.date], dt.date] = lambda day: day + dt.timedelta(days=1)
) -> list[tuple[dt.date, dt.date]]:
    """Sorted days as (first, last) runs of consecutive days (or of what `step` says follows a day: the next month)."""
    runs: list[list[dt.date]] = []
    for day in days:
        if runs and day == step(runs[-1][1]):
            runs[-1][1] = day
        else:
            runs.append([day, day])
    return [(first, last) for first, last in runs]


def rollup_slice(start: dt.date, end: dt.date) -> RollupSlice | None:
    """What the rollups can give of [start, end] now (None when they cannot be used: not Postgres, kept in
    another time zone than TIME_ZONE until the next fold, or out of date on every day of the period). One
    query, in the report's snapshot."""
    if connection.vendor != "postgresql":
        return None
    since, until = day_start(start), day_start(end + dt.timedelta(days=1))
    log = connection.ops.quote_name(RollupChange._meta.db_table)
    state = connection.ops.quote_name(RollupState._meta.db_table)
    zone = settings.TIME_ZONE
    days = (
        "ARRAY(SELECT DISTINCT d::date FROM ("
        f" SELECT GREATEST(time_from, %s) AS f, LEAST(time_to, %s) AS t FROM {log}"
        " WHERE kind = %s AND time_to >= %s AND time_from < %s) c,"
        " generate_series((c.f AT TIME ZONE %s)::date, (c.t AT TIME ZONE %s)::date, interval '1 day') d"
        " ORDER BY 1)"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT EXISTS (SELECT 1 FROM {state} WHERE time_zone = %s), {days}, {days}, {days}",
            (
                zone,
                *(since, until - dt.timedelta(microseconds=1), RollupChange.Kind.ASSIGNED, since, until, zone, zone),
                *(since, until - dt.timedelta(microseconds=1), RollupChange.Kind.DUE, since, until, zone, zone),
                *(since, until - dt.timedelta(microseconds=1), RollupChange.Kind.LEAD, since, until, zone, zone),
            ),
        )
        usable, stale, stale_due, stale_lead = cursor.fetchone()
    if not usable or len(stale) > (end - start).days:
        # Every day out of date (no fold yet, as after an upgrade, or no worker running the job): the
        # assignments alone are read faster than through the rollups' split.
        return None
    return RollupSlice(
        start=start,
        end=end,
        stale_days=tuple(stale),
        stale_due_days=tuple(stale_due),
        stale_lead_days=tuple(stale_lead),
    )


def rep_day_singles_sql(rollups: RollupSlice, reps: QuerySet[Rep] | None) -> tuple[str, tuple]:
    """SELECT (day, team, lk, n) of the rollups' leads that count once, per day and team (the rep's team
    now, as the assignments' read joins it), over the period's current days; lk is null."""
    table = connection.ops.quote_name(RepDayFigures._meta.db_table)
    rep_t = connection.ops.quote_name(Rep._meta.db_table)
    where, params = _current_days(rollups, reps, stale=rollups.stale_days)
    sql = (
        "SELECT f.day, rp.team_id AS team, CAST(NULL AS bigint) AS lk, SUM(f.single_assigned) AS n"
        f" FROM {table} f LEFT JOIN {rep_t} rp ON rp.id = f.rep_id WHERE {where} GROUP BY 1, 2"
    )
    return sql, params


def rep_sums_sql(
    rollups: RollupSlice, reps: QuerySet[Rep] | None, fields: list[tuple[str, str]], *, due: bool = False
) -> tuple[str, tuple]:
    """SELECT (k, <key>…) of the rollups' counts over the period's current days: per rep (k = rep id) and over
    all (k = -1, reports.selectors.TOTAL_KEY). `fields`: (field, key) pairs of RepFigures, or with `due` of
    RepDueFigures (the current due days then). The whole months from the month rollup, the other days from the
    day rollup."""
    days_model, months_model = (RepDueDayFigures, RepDueMonthFigures) if due else (RepDayFigures, RepMonthFigures)
    stale = rollups.stale_due_days if due else rollups.stale_days
    months = rollups.whole_due_months if due else rollups.whole_months
    in_months = {day for month in months for day in _month_of(month)}
    where, params = _current_days(rollups, reps, stale=stale, besides=in_months)
    columns = ", ".join(f"f.{field}" for field, _ in fields)
    rows = f"SELECT f.rep_id, {columns} FROM {connection.ops.quote_name(days_model._meta.db_table)} f WHERE {where}"
    if months:
        scope_sql, scope_params = _rep_scope(reps)
        table = connection.ops.quote_name(months_model._meta.db_table)
        rows += (
            f" UNION ALL SELECT f.rep_id, {columns} FROM {table} f"
            f" WHERE f.month IN ({', '.join(['%s'] * len(months))}){scope_sql}"
        )
        params = (*params, *months, *scope_params)
    sums = ", ".join(f"SUM(r.{field}) AS {key}" for field, key in fields)
    sql = (
        f"SELECT CASE WHEN GROUPING(r.rep_id) = 1 THEN -1 ELSE r.rep_id END AS k, {sums}"
        f" FROM ({rows}) r GROUP BY ROLLUP(r.rep_id)"
    )
    return sql, params


def coverage_sql(rollups: RollupSlice) -> tuple[str, tuple]:
    """SELECT (outcome, decided_by, rule_id, strategy, rule_name, n) of the first decisions of the leads that
    came in on the period's current lead days, from the rollups (reports.selectors.rule_coverage's groups)."""
    table = connection.ops.quote_name(CoverageDayFigures._meta.db_table)
    where, params = _current_days(rollups, None, stale=rollups.stale_lead_days)
    columns = "f.outcome, f.decided_by, f.rule_id, f.strategy, f.rule_name, f.decisions AS n"
    return f"SELECT {columns} FROM {table} f WHERE {where}", params


def rule_rep_months_sql(rollups: RollupSlice, reps: QuerySet[Rep] | None) -> tuple[str, tuple] | None:
    """SELECT (ru, re, n) of the engine's assignments per rule and rep over the period's whole_months, for the
    reps chosen, from the rollups (reports.selectors.pool_fairness's counts); None when there is no such month.
    Each run of consecutive whole months is its last month's running total less the one of the month before it."""
    months = rollups.whole_months
    if not months:
        return None
    table = connection.ops.quote_name(RuleRepMonthFigures._meta.db_table)
    scope_sql, scope_params = _rep_scope(reps)
    selects, params = [], []
    # No month after the last one kept has rows (nothing was assigned since, or its days would be stale): its
    # running totals are the last kept month's.
    month = f"LEAST(CAST(%s AS date), (SELECT MAX(month) FROM {table}))"
    for first, last in _runs(months, step=_next_month):
        before = (first - dt.timedelta(days=1)).replace(day=1)
        selects.append(
            f"SELECT f.rule_id AS ru, f.rep_id AS re, SUM(CASE WHEN f.month = {month} THEN f.running ELSE 0 END)"
            f" - SUM(CASE WHEN f.month = {month} THEN f.running ELSE 0 END) AS n FROM {table} f"
            f" WHERE f.month IN ({month}, {month}){scope_sql} GROUP BY 1, 2"
        )
        params.extend([last, before, last, before, *scope_params])
    # Every (rule, rep) that ever counted has a row in each month: keep those that assigned in these months.
    union = " UNION ALL ".join(selects)
    return f"SELECT ru, re, CAST(SUM(n) AS bigint) AS n FROM ({union}) m GROUP BY 1, 2 HAVING SUM(n) > 0", tuple(params)


def rule_due_sql(rollups: RollupSlice) -> tuple[str, tuple]:
    """SELECT (rule_id, rule_name, due, breaches, pooled) of the SLAs due and settled on the period's current due
    days, per rule and stored name, from the rollups (reports.selectors.sla_health's groups)."""
    table = connection.ops.quote_name(RuleDueDayFigures._meta.db_table)
    where, params = _current_days(rollups, None, stale=rollups.stale_due_days)
    sql = (
        "SELECT f.rule_id, f.rule_name, CAST(SUM(f.due) AS bigint) AS due,"
        " CAST(SUM(f.breaches) AS bigint) AS breaches, CAST(SUM(f.pooled) AS bigint) AS pooled"
        f" FROM {table} f WHERE {where} GROUP BY f.rule_id, f.rule_name"
    )
    return sql, params


def _current_days(
    rollups: RollupSlice,
    reps: QuerySet[Rep] | None,
    *,
    stale: tuple[dt.date, ...],
    besides: set[dt.date] | frozenset = frozenset(),
) -> tuple[str, tuple]:
    """WHERE (on a rollup f) of the period's days not in `stale` (nor in `besides`), for the reps chosen, with its
    params."""
    where, params = ["f.day >= %s", "f.day <= %s"], [rollups.start, rollups.end]
    left_out = sorted({*stale, *besides})
    if left_out:
        where.append(f"f.day NOT IN ({', '.join(['%s'] * len(left_out))})")
        params.extend(left_out)
    scope_sql, scope_params = _rep_scope(reps)
    return " AND ".join(where) + scope_sql, (*params, *scope_params)


def _rep_scope(reps: QuerySet[Rep] | None) -> tuple[str, tuple]:
    """` AND f.rep_id IN (…)` (on a rollup f) for the reps chosen, with its params; nothing when none are."""
    if reps is None:
        return "", ()
    scope_sql, scope_params = reps.order_by().values("pk").query.sql_with_params()
    return f" AND f.rep_id IN ({scope_sql})", tuple(scope_params)


# ----------------------------------------------------------------------------- folding


def _rebuild_sql() -> str:
    """INSERT the rollup rows of the assignments made in [since, until), per local day (zone) and rep."""
    table = connection.ops.quote_name(RepDayFigures._meta.db_table)
    source = connection.ops.quote_name(Assignment._meta.db_table)
    single = "NOT (ended_at IS NOT NULL OR NOT first_decision)"
    speed = seconds_between_sql("first_contacted_at", "created_at")  # as reports.selectors reads it
    buckets = speed_bucket_conditions(speed)
    return (
        f"INSERT INTO {table} (day, rep_id, assignments, single_assigned, single_contacted, single_converted,"
        f" misrouted, reassigned, within_5_min, {', '.join(f'bucket_{i}' for i in range(len(buckets)))})"
        " SELECT (created_at AT TIME ZONE %(zone)s)::date, rep_id, COUNT(*),"
        f" COUNT(*) FILTER (WHERE {single}),"
        f" COUNT(*) FILTER (WHERE {single} AND first_contacted_at IS NOT NULL),"
        f" COUNT(*) FILTER (WHERE {single} AND converted_at IS NOT NULL),"
        " COUNT(*) FILTER (WHERE misrouted_at IS NOT NULL),"
        " COUNT(*) FILTER (WHERE reassigned_at IS NOT NULL AND misrouted_at IS NULL),"
        f" COUNT(*) FILTER (WHERE {speed} <= {FAST_CONTACT_SECONDS}),"
        f" {', '.join(f'COUNT(*) FILTER (WHERE {cond})' for cond in buckets)}"
        f" FROM {source} WHERE outcome = 'assigned' AND created_at >= %(since)s AND created_at < %(until)s"
        " GROUP BY 1, 2"
    )


def _rebuild_due_sql() -> str:
    """INSERT the due rollup rows of the SLAs due in [since, until), per local due day (zone) and rep."""
    table = connection.ops.quote_name(RepDueDayFigures._meta.db_table)
    source = connection.ops.quote_name(Assignment._meta.db_table)
    return (
        f"INSERT INTO {table} (day, rep_id, settled, met, breached)"
        " SELECT (sla_due_at AT TIME ZONE %(zone)s)::date, rep_id, COUNT(*),"
        " COUNT(*) FILTER (WHERE sla_met_at IS NOT NULL), COUNT(*) FILTER (WHERE sla_breached_at IS NOT NULL)"
        f" FROM {source} WHERE outcome = 'assigned' AND (sla_met_at IS NOT NULL OR sla_breached_at IS NOT NULL)"
        " AND sla_due_at >= %(since)s AND sla_due_at < %(until)s GROUP BY 1, 2"
    )


def _rebuild_rule_rep_month_sql() -> str:
    """INSERT pool fairness's rollup rows of the months [first, last] from the assignments made in [since, until),
    per local month (zone), rule and rep: the engine's, by a rule (reports.selectors.pool_fairness's `got`), with
    their running totals from the month before `first`. A (rule, rep) of that month or of these has a row in each."""
    table = connection.ops.quote_name(RuleRepMonthFigures._meta.db_table)
    source = connection.ops.quote_name(Assignment._meta.db_table)
    return (
        f"INSERT INTO {table} (month, rule_id, rep_id, assignments, running)"
        " WITH counts AS (SELECT date_trunc('month', created_at AT TIME ZONE %(zone)s)::date AS month, rule_id,"
        f" rep_id, COUNT(*) AS n FROM {source} WHERE outcome = 'assigned' AND decided_by = 'engine'"
        " AND rule_id IS NOT NULL AND rep_id IS NOT NULL AND created_at >= %(since)s AND created_at < %(until)s"
        " GROUP BY 1, 2, 3),"
        f" base AS (SELECT rule_id, rep_id, running FROM {table}"
        " WHERE month = (%(first)s::date - interval '1 month')::date),"
        " pairs AS (SELECT rule_id, rep_id FROM base UNION SELECT rule_id, rep_id FROM counts),"
        " grid AS (SELECT m::date AS month, p.rule_id, p.rep_id FROM pairs p"
        " CROSS JOIN generate_series(%(first)s::date, %(last)s::date, interval '1 month') m)"
        " SELECT g.month, g.rule_id, g.rep_id, COALESCE(c.n, 0), COALESCE(b.running, 0)"
        " + SUM(COALESCE(c.n, 0)) OVER (PARTITION BY g.rule_id, g.rep_id ORDER BY g.month)"
        " FROM grid g LEFT JOIN counts c ON c.month = g.month AND c.rule_id = g.rule_id AND c.rep_id = g.rep_id"
        " LEFT JOIN base b ON b.rule_id = g.rule_id AND b.rep_id = g.rep_id"
    )


def _rebuild_rule_due_sql() -> str:
    """INSERT the SLA card's rollup rows of the SLAs due in [since, until), per local due day (zone) and rule: those the
    card counts as due (reports.selectors.sla_health), met or breached, or pooled and claimed by the due time."""
    table = connection.ops.quote_name(RuleDueDayFigures._meta.db_table)
    source = connection.ops.quote_name(Assignment._meta.db_table)
    condition = (
        "sla_met_at IS NOT NULL OR sla_breached_at IS NOT NULL"
        " OR (outcome = 'pooled' AND ended_at IS NOT NULL AND ended_at <= sla_due_at)"
    )
    breached = "sla_breached_at IS NOT NULL"
    return (
        f"INSERT INTO {table} (day, rule_id, rule_name, due, breaches, pooled)"
        " SELECT (sla_due_at AT TIME ZONE %(zone)s)::date, rule_id, rule_name, COUNT(*), COUNT(*) FILTER (WHERE"
        f" {breached}), COUNT(*) FILTER (WHERE {breached} AND outcome = 'pooled')"
        f" FROM {source} WHERE ({condition}) AND sla_due_at >= %(since)s AND sla_due_at < %(until)s GROUP BY 1, 2, 3"
    )


def _rebuild_months_sql(days: type[models.Model], months: type[models.Model]) -> str:
    """INSERT the `months` rollup rows of the whole months [first, last] as the sums of their `days` rows (the
    fold rebuilds those first)."""
    fields = [f.column for f in months._meta.concrete_fields if f.column not in ("id", "month", "rep_id")]
    return (
        f"INSERT INTO {connection.ops.quote_name(months._meta.db_table)} (month, rep_id, {', '.join(fields)})"
        f" SELECT date_trunc('month', f.day)::date, f.rep_id, {', '.join(f'SUM(f.{c})' for c in fields)}"
        f" FROM {connection.ops.quote_name(days._meta.db_table)} f WHERE f.day >= %(first)s AND f.day <= %(last)s"
        " GROUP BY 1, 2"
    )


def _rebuild_coverage_sql() -> str:
    """INSERT the coverage rollup rows of the first decisions of the leads that came in in [since, until), per local
    day (zone) of the lead's time and per way the decision was made."""
    table = connection.ops.quote_name(CoverageDayFigures._meta.db_table)
    source = connection.ops.quote_name(Assignment._meta.db_table)
    return (
        f"INSERT INTO {table} (day, outcome, decided_by, rule_id, strategy, rule_name, decisions)"
        " SELECT (lead_created_at AT TIME ZONE %(zone)s)::date, outcome, decided_by, rule_id, strategy, rule_name,"
        " COUNT(*)"
        f" FROM {source} WHERE first_decision AND lead_created_at >= %(since)s AND lead_created_at < %(until)s"
        " GROUP BY 1, 2, 3, 4, 5, 6"
    )


def rollups_fold() -> int:
    """Fold the logged changes into the rollups: rebuild each day they touch, then delete the log rows read.
    Returns the number of days rebuilt (of either kind). Postgres only (0 elsewhere); one fold at a time (a
    second returns 0).

    A TIME_ZONE other than the rollups' rebuilds the whole history in it."""
    if connection.vendor != "postgresql":
        return 0
    zone = settings.TIME_ZONE
    log = connection.ops.quote_name(RollupChange._meta.db_table)
    source = connection.ops.quote_name(Assignment._meta.db_table)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", (FOLD_LOCK,))
        if not cursor.fetchone()[0]:
            return 0
        state = RollupState.objects.select_for_update().first()
        if state is None or state.time_zone != zone:
            for model in ROLLUPS:
                model.objects.all().delete()
            cursor.execute(
                f"INSERT INTO {log} (kind, time_from, time_to)"
                f" SELECT 'assigned', MIN(created_at), MAX(created_at) FROM {source} HAVING COUNT(*) > 0"
                f" UNION ALL SELECT 'due', MIN(sla_due_at), MAX(sla_due_at) FROM {source}"
                " WHERE sla_due_at IS NOT NULL HAVING COUNT(*) > 0"
                f" UNION ALL SELECT 'lead', MIN(lead_created_at), MAX(lead_created_at) FROM {source}"
                " WHERE first_decision HAVING COUNT(*) > 0"
            )
            RollupState.objects.all().delete()
            RollupState.objects.create(time_zone=zone)
        # The log first: a change committed after this read keeps its row for the next fold.
        changes = list(RollupChange.objects.values_list("pk", "kind", "time_from", "time_to"))
        if not changes:
            return 0
        days: dict[str, set[dt.date]] = {kind: set() for kind in RollupChange.Kind.values}
        for _, kind, first, last in changes:
            day, last_day = _local_day(first, zone), _local_day(last, zone)
            while day <= last_day:
                days[kind].add(day)
                day += dt.timedelta(days=1)
        # (kind, rollup, how it is rebuilt, whether it is kept by month), in order: a month's sums read its days.
        for kind, model, rebuild, by_month in [
            (RollupChange.Kind.ASSIGNED, RepDayFigures, _rebuild_sql(), False),
            (RollupChange.Kind.ASSIGNED, RepMonthFigures, _rebuild_months_sql(RepDayFigures, RepMonthFigures), True),
            (RollupChange.Kind.DUE, RepDueDayFigures, _rebuild_due_sql(), False),
            (
                RollupChange.Kind.DUE,
                RepDueMonthFigures,
                _rebuild_months_sql(RepDueDayFigures, RepDueMonthFigures),
                True,
            ),
            (RollupChange.Kind.DUE, RuleDueDayFigures, _rebuild_rule_due_sql(), False),
            (RollupChange.Kind.LEAD, CoverageDayFigures, _rebuild_coverage_sql(), False),
        ]:
            # A month's rollup is rebuilt whole: every day of the months the log touches.
            rebuilt = {whole for day in days[kind] for whole in _month_of(day)} if by_month else days[kind]
            field = "month" if by_month else "day"
            for first, last in _runs(tuple(sorted(rebuilt))):
                model.objects.filter(**{f"{field}__gte": first, f"{field}__lte": last}).delete()
                span = {"since": day_start(first), "until": day_start(last + dt.timedelta(days=1))}
                cursor.execute(rebuild, {"zone": zone, "first": first, "last": last, **span})
        touched = days[RollupChange.Kind.ASSIGNED]
        if touched:
            # Running totals: from the first month touched, every month up to the last one kept is rebuilt; and the
            # months with nothing assigned since the last one kept, so that every month has its totals.
            first = min(touched).replace(day=1)
            kept = RuleRepMonthFigures.objects.aggregate(last=models.Max("month"))["last"]
            if kept is not None and _next_month(kept) < first:
                first = _next_month(kept)
            last = _next_month(max(max(touched), kept or first)) - dt.timedelta(days=1)
            RuleRepMonthFigures.objects.filter(month__gte=first).delete()
            span = {"since": day_start(first), "until": day_start(last + dt.timedelta(days=1))}
            cursor.execute(_rebuild_rule_rep_month_sql(), {"zone": zone, "first": first, "last": last, **span})
        cursor.execute(f"DELETE FROM {log} WHERE id = ANY(%s)", ([pk for pk, *_ in changes],))
        return sum(len(kind_days) for kind_days in days.values())


def _month_of(day: dt.date) -> list[dt.date]:
    """Every day of `day`'s month."""
    first = day.replace(day=1)
    return [first + dt.timedelta(days=i) for i in range((_next_month(first) - first).days)]


def _local_day(moment: dt.datetime, zone: str) -> dt.date:
    return moment.astimezone(ZoneInfo(zone)).date()
