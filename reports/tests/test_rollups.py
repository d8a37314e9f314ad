"""The report rollups (reports/rollups.py): every change to the assignments is logged by the database, a fold
rebuilds the days it touched exactly, and leads per day read from rollups and assignments equal the read from
the assignments alone, however much is folded."""

import datetime as dt

import pytest
from django.db import connection

from leadops.tests.factories import LeadFactory
from reports import rollups
from reports.columns import SPEED_BUCKETS
from reports.models import (
    RepDayFigures,
    RepDueDayFigures,
    RepDueMonthFigures,
    RepMonthFigures,
    RollupChange,
    RollupState,
    RuleRepMonthFigures,
)
from reports.selectors import (
    leads_per_day_by_team,
    pool_fairness,
    rep_report,
    report_queries,
    rule_coverage,
    sla_health,
)
from reports.tests.helpers import assign, at, convert, end, event, report_filter
from reps.tests.factories import RepFactory, TeamFactory
from routing.models import Assignment, Rule
from routing.services.sla import sla_watch
from routing.tests.factories import AssignmentFactory, RuleFactory

pytestmark = pytest.mark.django_db
postgres_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="the rollups are kept on Postgres only")

MARCH = {"start": "2026-03-01", "end": "2026-03-31"}
FIGURES = (
    *("assignments", "single_assigned", "single_contacted", "single_converted"),
    *("misrouted", "reassigned", "within_5_min"),
    *(f"bucket_{i}" for i in range(len(SPEED_BUCKETS))),
)


@pytest.fixture
def history():
    """Two teams over a few days of March: contacts, a conversion, a hand-over within the team on the same day
    (the lead counts once for the team), one to the other team, a misrouted flag, a rep without a team."""
    emea, us = TeamFactory(name="EMEA"), TeamFactory(name="US")
    ana, bob = RepFactory(name="Ana", team=emea), RepFactory(name="Bob", team=us)
    di, loner = RepFactory(name="Di", team=emea), RepFactory(name="Cy", team=None)
    first = assign(ana, at(3, 9))
    event(first, "contacted", at(3, 9, 4))
    convert(first, at(4))
    slow = assign(ana, at(3, 11))
    event(slow, "contacted", at(3, 12))
    moved = assign(ana, at(5, 9))
    event(moved, "contacted", at(5, 10))
    assign(di, at(5, 15), lead=moved.lead)  # same day and team: once for EMEA
    away = assign(ana, at(6, 9))
    assign(bob, at(6, 10), lead=away.lead)  # once for EMEA, once for US
    flagged = assign(bob, at(7, 9))
    event(flagged, "misrouted", at(7, 10))
    assign(loner, at(7, 13))
    return {"ana": ana, "bob": bob, "di": di, "loner": loner, "emea": emea}


@pytest.fixture(autouse=True)
def kept_in_this_zone(settings):
    """The rollups' state as the migration leaves it (a test that empties the tables may have removed it)."""
    RollupState.objects.all().delete()
    RollupState.objects.create(time_zone=settings.TIME_ZONE)


def per_day(*, with_rollups: bool, **params) -> dict:
    filters = report_filter(**{**MARCH, **params})
    with report_queries():
        slice_ = rollups.rollup_slice(*filters.period) if with_rollups else None
        rows = leads_per_day_by_team(filters.qs, rollups=slice_, reps=filters.reps() if filters.narrowed else None)
    return {(p["day"], p["team_name"]): p["leads"] for p in rows}


def table(*, with_rollups: bool, **params) -> dict:
    """The per-rep table, totals and speed histogram included, as {rep id (None: the totals): figures}."""
    filters = report_filter(**{**MARCH, **params})
    with report_queries():
        slice_ = rollups.rollup_slice(*filters.period) if with_rollups else None
        report = rep_report(
            assignments=filters.qs,
            due=filters.sla_due(),
            reps=filters.reps(),
            speed_buckets=True,
            rollups=slice_,
            narrowed=filters.narrowed,
        )
    return {row.rep_id: vars(row) for row in [*report.rows, report.total]}


def figures_from_assignments() -> dict:
    """RepDayFigures as they should be, computed here in Python from the assignments' rows."""
    out: dict = {}
    for a in Assignment.objects.filter(outcome="assigned"):
        key = (a.created_at.date(), a.rep_id)  # the test settings' zone is UTC
        row = out.setdefault(key, dict.fromkeys(FIGURES, 0))
        single = a.ended_at is None and a.first_decision
        speed = (a.first_contacted_at - a.created_at).total_seconds() if a.first_contacted_at else None
        row["assignments"] += 1
        row["single_assigned"] += single
        row["single_contacted"] += single and speed is not None
        row["single_converted"] += single and a.converted_at is not None
        row["misrouted"] += a.misrouted_at is not None
        row["reassigned"] += a.reassigned_at is not None and a.misrouted_at is None
        row["within_5_min"] += speed is not None and speed <= 300
        if speed is not None:
            bounds = [high for _, high in SPEED_BUCKETS]
            row[f"bucket_{next(i for i, high in enumerate(bounds) if high is None or speed <= high)}"] += 1
    return out


def figures_kept() -> dict:
    return {(f.day, f.rep_id): {name: getattr(f, name) for name in FIGURES} for f in RepDayFigures.objects.all()}


@postgres_only
def test_every_write_to_the_assignments_is_logged_with_its_times_and_nothing_else_is(history):
    def logged() -> set:
        changes = set(RollupChange.objects.values_list("kind", "time_from", "time_to"))
        RollupChange.objects.all().delete()
        return changes

    ana = history["ana"]
    logged()
    lead_row = assign(ana, at(20, 9))  # the lead's first decision: its lead's time is logged too
    assert logged() == {("assigned", at(20, 9), at(20, 9)), ("lead", at(20, 9), at(20, 9))}
    Assignment.objects.filter(pk=lead_row.pk).update(rule_name="Renamed")  # no fact of an assigned row
    assert logged() == {("lead", at(20, 9), at(20, 9))}  # but a fact of a first decision
    Assignment.objects.filter(pk=lead_row.pk).update(decided_by="user")  # who decided: pool fairness counts it
    assert logged() == {("assigned", at(20, 9), at(20, 9)), ("lead", at(20, 9), at(20, 9))}
    Assignment.objects.filter(pk=lead_row.pk).update(rule_set_version=7)  # no report fact at all
    assert logged() == set()
    event(lead_row, "contacted", at(21))  # first contact: a fact, on the 20th's row
    assert logged() == {("assigned", at(20, 9), at(20, 9))}
    Assignment.objects.filter(created_at__lt=at(6, 0)).update(misrouted_at=at(25))  # one statement, many days
    assert logged() == {("assigned", at(3, 9), at(5, 15))}
    Assignment.objects.filter(pk=lead_row.pk).update(sla_due_at=at(20, 9, 30))  # an SLA due time set
    assert logged() == {("due", at(20, 9, 30), at(20, 9, 30))}
    Assignment.objects.filter(pk=lead_row.pk).delete()
    assert logged() == {
        ("assigned", at(20, 9), at(20, 9)),
        ("due", at(20, 9, 30), at(20, 9, 30)),
        ("lead", at(20, 9), at(20, 9)),
    }


@postgres_only
def test_a_fold_rebuilds_the_days_it_was_told_of_exactly_and_empties_the_log(history):
    # The days with assignments written or changed, 3, 5, 6 and 7 March, and the same days of their leads.
    assert rollups.rollups_fold() == 8
    assert not RollupChange.objects.exists()
    assert figures_kept() == figures_from_assignments()
    # After the fold: a hand-over on an old day (ends Ana's assignment of the 3rd: its lead may now repeat).
    first = Assignment.objects.get(rep=history["ana"], created_at=at(3, 9))
    assign(history["bob"], at(9, 9), lead=first.lead)
    assert figures_kept() != figures_from_assignments()
    assert rollups.rollups_fold() == 2  # the 3rd (ended) and the 9th (new)
    assert figures_kept() == figures_from_assignments()
    assert rollups.rollups_fold() == 0


@postgres_only
@pytest.mark.parametrize("folded", ["nothing", "everything", "then changed"])
@pytest.mark.parametrize("team", [False, True])
def test_leads_per_day_from_the_rollups_equal_the_read_of_the_assignments(history, folded, team):
    params = {"team": history["emea"].pk} if team else {}
    if folded != "nothing":
        rollups.rollups_fold()
    if folded == "then changed":
        first = Assignment.objects.get(rep=history["ana"], created_at=at(3, 11))
        assign(history["di"], at(3, 16), lead=first.lead)  # same day and team: still once
        end(Assignment.objects.get(rep=history["loner"]), at(8), "released")
        assign(history["loner"], at(8, 9))
    expected = per_day(with_rollups=False, **params)
    assert per_day(with_rollups=True, **params) == expected
    assert expected  # the figure is not empty
    day = dt.date(2026, 3, 5)
    assert expected[(day, "EMEA")] == 1  # Ana, then Di, the same day: once
    expected_table = table(with_rollups=False, **params)
    assert table(with_rollups=True, **params) == expected_table
    total = expected_table[None]
    assert total["assigned"] and total["contacted"] and total["converted"] and total["median_speed"]
    assert total["misrouted"] == (0 if team else 1)  # Bob's, in the US
    assert total["buckets"] == [1, 0, 2, 0, 0, 0]  # contacted after 4 minutes, and twice after an hour


@postgres_only
def test_the_page_reads_the_current_days_from_the_rollups_and_the_others_from_the_assignments(history):
    rollups.rollups_fold()
    assign(history["bob"], at(10, 9))  # logged, not folded: the 10th is read from the assignments
    slice_ = rollups.rollup_slice(dt.date(2026, 3, 1), dt.date(2026, 3, 31))
    assert slice_.stale_days == (dt.date(2026, 3, 10),)
    # A current day counts from its rollup row: shown by making the row say something else.
    RepDayFigures.objects.filter(day=dt.date(2026, 3, 7), rep_id=history["loner"].pk).update(single_assigned=5)
    assert per_day(with_rollups=True)[(dt.date(2026, 3, 7), "No team")] == 5
    assert per_day(with_rollups=False)[(dt.date(2026, 3, 7), "No team")] == 1
    assert table(with_rollups=True)[history["loner"].pk]["assigned"] == 5
    assert table(with_rollups=False)[history["loner"].pk]["assigned"] == 1


@postgres_only
def test_a_period_out_of_date_on_every_day_is_read_from_the_assignments_alone(history):
    rollups.rollups_fold()
    assert rollups.rollup_slice(dt.date(2026, 3, 1), dt.date(2026, 3, 31)) is not None
    RollupChange.objects.create(kind="assigned", time_from=at(1, 0), time_to=at(31, 23))  # as before a first fold
    assert rollups.rollup_slice(dt.date(2026, 3, 1), dt.date(2026, 3, 31)) is None
    assert rollups.rollup_slice(dt.date(2026, 3, 1), dt.date(2026, 4, 30)).stale_days[-1] == dt.date(2026, 3, 31)


@postgres_only
def test_rollups_kept_in_another_time_zone_are_not_read_until_the_fold_rebuilds_them(history, settings):
    rollups.rollups_fold()
    settings.TIME_ZONE = "America/New_York"
    assert rollups.rollup_slice(dt.date(2026, 3, 1), dt.date(2026, 3, 31)) is None
    assert rollups.rollups_fold() > 0
    assert RollupState.objects.get().time_zone == "America/New_York"
    days = set(RepDayFigures.objects.values_list("day", flat=True))
    assert dt.date(2026, 3, 7) in days and rollups.rollup_slice(dt.date(2026, 3, 1), dt.date(2026, 3, 31))


@pytest.mark.skipif(connection.vendor == "postgresql", reason="elsewhere than Postgres")
def test_without_postgres_there_are_no_rollups_and_the_figures_come_from_the_assignments(history):
    from io import StringIO

    from django.core.management import call_command

    assert rollups.rollups_fold() == 0
    out = StringIO()
    call_command("rollups_fold", stdout=out)
    assert "kept on PostgreSQL only" in out.getvalue()
    assert rollups.rollup_slice(dt.date(2026, 3, 1), dt.date(2026, 3, 31)) is None
    assert per_day(with_rollups=True) == per_day(with_rollups=False)


@postgres_only
def test_the_fold_job_and_command_roll_up_what_the_log_names(history):
    from io import StringIO

    from django.core.management import call_command

    from reports.jobs import rollups_fold_job

    assert rollups_fold_job() == {"days_rebuilt": 8}
    assign(history["bob"], at(12, 9))
    out = StringIO()
    call_command("rollups_fold", stdout=out)
    assert out.getvalue().strip() == "2 days rolled up again."  # the 12th's assignments, and its leads
    assert figures_kept() == figures_from_assignments()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_change_committed_while_a_fold_runs_is_not_lost(settings):
    """A writer on another connection changes an assignment and logs it, but commits only after a fold has
    read the log and rebuilt that day without the change, just before the fold deletes the log rows it read:
    the writer's log row survives the fold, so the day is read from the assignments until the next fold, and
    no figure misses the change."""
    import psycopg

    RollupState.objects.all().delete()
    RollupState.objects.create(time_zone=settings.TIME_ZONE)
    team = TeamFactory(name="EMEA")
    ana, di = RepFactory(name="Ana", team=team), RepFactory(name="Di", team=team)
    first = assign(ana, at(3, 9))
    other = assign(ana, at(3, 11))
    rollups.rollups_fold()
    dsn = connection.get_connection_params()
    dsn.pop("cursor_factory", None)
    dsn.pop("context", None)
    with psycopg.connect(**dsn) as writer:  # not autocommit: the change stays open
        # The lead handed to Di the same day, by the other connection (the trigger logs it there).
        writer.execute("UPDATE routing_assignment SET ended_at = %s WHERE id = %s", [at(3, 15), first.pk])
        columns = [f.column for f in Assignment._meta.concrete_fields if f.column != "id"]
        changed = {"rep_id": "%s", "created_at": "%s", "decided_by": "'user'", "first_decision": "false"}
        writer.execute(
            f"INSERT INTO routing_assignment ({', '.join(columns)})"
            f" SELECT {', '.join(changed.get(c, c) for c in columns)} FROM routing_assignment WHERE id = %s",
            [di.pk, at(3, 15), first.pk],
        )
        assert rollups.rollups_fold() == 0  # it sees nothing of the open change
        Assignment.objects.filter(pk=other.pk).update(misrouted_at=at(3, 12))  # a change it does see: the 3rd

        def writer_commits_before_the_log_rows_go(execute, sql, params, many, context):
            if sql.startswith("DELETE") and "reports_rollupchange" in sql:
                writer.commit()  # after the fold read the log and rebuilt the 3rd without the change
            return execute(sql, params, many, context)

        with connection.execute_wrapper(writer_commits_before_the_log_rows_go):
            assert rollups.rollups_fold() == 1
    slice_ = rollups.rollup_slice(dt.date(2026, 3, 1), dt.date(2026, 3, 31))
    assert slice_.stale_days == (dt.date(2026, 3, 3),)
    assert table(with_rollups=True) == table(with_rollups=False)
    assert table(with_rollups=False)[di.pk]["assignments"] == 1
    assert rollups.rollups_fold() == 1
    assert figures_kept() == figures_from_assignments()


@postgres_only
@pytest.mark.parametrize("folded", ["nothing", "everything", "then changed"])
def test_the_sla_columns_from_the_rollups_equal_the_read_of_the_assignments(sla_march, folded):
    """The SLAs are rolled up by their due day: one due on 1 March for an assignment of 28 February counts
    in March, one due on 1 April for an assignment of 31 March in April."""
    ana, ben = sla_march
    if folded != "nothing":
        assert rollups.rollups_fold() > 0
        assert RepDueDayFigures.objects.filter(rep_id=ana.pk, day=dt.date(2026, 3, 1)).get().met == 1
    if folded == "then changed":
        inbound = Rule.objects.get(name="Inbound")
        assign(ben, at(9), rule=inbound)  # never contacted: breached
        sla_watch(at=at(2, month=4))
        assert rollups.rollup_slice(dt.date(2026, 3, 1), dt.date(2026, 3, 31)).stale_due_days == (dt.date(2026, 3, 9),)
    for period in ({}, {"start": "2026-04-01", "end": "2026-04-30"}):
        expected = table(with_rollups=False, **period)
        assert table(with_rollups=True, **period) == expected
    march = table(with_rollups=False)
    assert (march[ana.pk]["sla_due"], march[ana.pk]["sla_met"], march[ana.pk]["sla_breaches"]) == (5, 3, 2)
    assert march[ben.pk]["sla_breaches"] == (1 if folded == "then changed" else 0)


def coverage(*, with_rollups: bool, **params) -> tuple:
    filters = report_filter(**{**MARCH, **params})
    with report_queries():
        slice_ = rollups.rollup_slice(*filters.period) if with_rollups else None
        scope = filters.reps() if filters.narrowed else None
        result = rule_coverage(since=filters.since, until=filters.until, reps=scope, rollups=slice_)
    return result.by_rule, result.decided, result.not_routed


@postgres_only
@pytest.mark.parametrize("folded", ["nothing", "everything", "then changed"])
def test_rule_coverage_from_the_rollups_equals_the_read_of_the_assignments(history, folded):
    """Counted by the day the lead came in: a lead of 28 February first decided on 1 March counts in
    February."""
    rule = RuleFactory(name="Inbound")
    late = assign(history["bob"], at(1, 0, 30), rule=rule)
    Assignment.objects.filter(pk=late.pk).update(lead_created_at=at(28, 23, month=2))
    assign(history["bob"], at(2, 9), decided_by="user")
    if folded != "nothing":
        assert rollups.rollups_fold() > 0
    if folded == "then changed":
        assign(history["loner"], at(8, 9), rule=rule)
    expected = coverage(with_rollups=False)
    assert coverage(with_rollups=True) == expected
    labels = {row["label"]: row["leads"] for row in expected[0]}
    assert labels["Manual (by a user)"] == 1 and labels.get("Inbound", 0) == (1 if folded == "then changed" else 0)
    assert coverage(with_rollups=True, start="2026-02-01", end="2026-02-28") == coverage(
        with_rollups=False, start="2026-02-01", end="2026-02-28"
    )
    assert coverage(with_rollups=False, start="2026-02-01", end="2026-02-28")[1] == 1
    team = {"team": history["emea"].pk}  # a team chosen: the assignments alone, whatever the rollups
    assert coverage(with_rollups=True, **team) == coverage(with_rollups=False, **team)


def sla_card(*, with_rollups: bool, **params):
    filters = report_filter(**{**MARCH, **params})
    with report_queries():
        slice_ = rollups.rollup_slice(*filters.period) if with_rollups else None
        return sla_health(due=filters.sla_due(), current=filters.current(), now=at(2, month=4), rollups=slice_)


@postgres_only
@pytest.mark.parametrize("folded", ["nothing", "everything", "then changed"])
def test_the_sla_card_from_the_rollups_equals_the_read_of_the_assignments(sla_march, folded):
    """Per rule and due day, poolings included: one nobody claimed (a pooled breach), one claimed in time (met),
    and a rule renamed after its SLAs were settled (the card names it as it is called now)."""
    ana, ben = sla_march
    pool = RuleFactory(name="Pool 10 min", sla_minutes=10, strategy="pool")
    for day in (20, 22):
        pooled = LeadFactory(status="pooled", created_at=at(day))
        AssignmentFactory(
            lead=pooled, outcome="pooled", rep=None, rule=pool, created_at=at(day), sla_due_at=at(day, 10, 10)
        )
    taken = pooled  # Ben claims the second in time; nobody claims the first
    assign(ben, at(22, 10, 5), lead=taken, decided_by="user")
    sla_watch(at=at(2, month=4))
    if folded != "nothing":
        assert rollups.rollups_fold() > 0
    if folded == "then changed":
        assign(ben, at(9), rule=Rule.objects.get(name="Inbound"))  # never contacted: breached
        sla_watch(at=at(2, month=4))
        Rule.objects.filter(name="Inbound").update(name="Inbound (EMEA)")
    expected = sla_card(with_rollups=False)
    assert sla_card(with_rollups=True) == expected
    late = 1 if folded == "then changed" else 0
    assert (expected.due, expected.breaches, expected.pooled_breaches) == (8 + late, 3 + late, 1)
    assert [(rule["rule"], rule["breaches"], rule["due"]) for rule in expected.worst_rules] == [
        ("Inbound (EMEA)" if late else "Inbound", 2 + late, 6 + late),
        ("Pool 10 min", 1, 2),
    ]
    april = {"start": "2026-04-01", "end": "2026-04-30"}
    assert sla_card(with_rollups=True, **april) == sla_card(with_rollups=False, **april)
    assert sla_card(with_rollups=False, **april).breaches == 1  # 31 March 23:50, due 1 April


# A period with one whole month in it, March, and parts of February and April.
SPRING = {"start": "2026-02-15", "end": "2026-04-10"}


def fairness(*, with_rollups: bool, **params) -> list[dict]:
    filters = report_filter(**{**SPRING, **params})
    with report_queries():
        slice_ = rollups.rollup_slice(*filters.period) if with_rollups else None
        return pool_fairness(assignments=filters.qs, reps=filters.reps(), rollups=slice_, narrowed=filters.narrowed)


@pytest.fixture
def pools(history):
    """A weighted rule over EMEA (Ana weight 1, Di 0.5) and a round robin listing Bob, Cy and Ana (who gets none
    of its leads: with EMEA chosen, the rule has assigned nothing in view and is not shown), assigning in the
    second half of February, in March and early April; a manual assignment and one after the period."""
    emea = RuleFactory(name="EMEA weighted", pool_team=history["emea"], strategy="weighted")
    Rep = type(history["di"])
    Rep.objects.filter(pk=history["di"].pk).update(weight="0.5")
    listed = RuleFactory(name="Listed")
    for rep in (history["bob"], history["loner"], history["ana"]):
        listed.pool_entries.create(rep=rep)
    for when, rep, rule in [
        (at(20, month=2), history["ana"], emea),
        (at(10), history["ana"], emea),
        (at(11), history["ana"], emea),
        (at(12), history["di"], emea),
        (at(31, 23, 30), history["di"], emea),
        (at(1, 0, 30, month=4), history["di"], emea),
        (at(16), history["bob"], listed),
        (at(17), history["bob"], listed),
        (at(10, month=4), history["loner"], listed),
        (at(11, month=4), history["loner"], listed),  # after the period
    ]:
        assign(rep, when, rule=rule)
    assign(history["ana"], at(18), rule=emea, decided_by="user")  # by hand: not the rotation's
    return {"emea": emea, "listed": listed}


@postgres_only
@pytest.mark.parametrize("folded", ["nothing", "everything", "then changed", "an earlier month changed and folded"])
@pytest.mark.parametrize("team", [False, True])
def test_pool_fairness_from_the_rollups_equals_the_read_of_the_assignments(history, pools, folded, team):
    """The whole month (March) from the month rollup's running totals, the rest of the period from the assignments;
    a month with a change not folded yet wholly from the assignments; a change in an earlier month (February)
    folded into every later month's running total."""
    params = {"team": history["emea"].pk} if team else {}
    if folded != "nothing":
        assert rollups.rollups_fold() > 0
        march = RuleRepMonthFigures.objects.get(month=dt.date(2026, 3, 1), rep_id=history["ana"].pk)
        assert (march.assignments, march.running) == (2, 3)  # and 1 in February
    if folded == "then changed":
        assign(history["di"], at(25), rule=pools["emea"])
    if folded == "an earlier month changed and folded":
        assign(history["di"], at(25, month=2), rule=pools["emea"])
        assert rollups.rollups_fold() == 2  # the 25th as an assignment's day and as a lead's
        assert rollups.rollup_slice(dt.date(2026, 2, 15), dt.date(2026, 4, 10)).whole_months == (dt.date(2026, 3, 1),)
    expected = fairness(with_rollups=False, **params)
    assert fairness(with_rollups=True, **params) == expected
    pool = {row["rule"]: row for row in expected}
    # Ana 1 + 2, Di (1 + 2 [+ 1]) ÷ 0.5
    di = 6.0 if folded in ("nothing", "everything") else 8.0
    assert (pool["EMEA weighted"]["most"], pool["EMEA weighted"]["least"]) == (max(3.0, di), min(3.0, di))
    assert ("Listed" in pool) == (not team)
    if not team:
        assert (pool["Listed"]["leads"], pool["Listed"]["spread"]) == (3, 2.0)  # Bob 2, Cy 1, Ana 0


@postgres_only
def test_pool_fairness_reads_whole_months_from_the_rollups(history, pools):
    rollups.rollups_fold()
    # A whole month's rollup row counts: shown by making it say something else.
    RuleRepMonthFigures.objects.filter(month=dt.date(2026, 3, 1), rep_id=history["bob"].pk).update(running=7)
    listed = {row["rule"]: row for row in fairness(with_rollups=True)}["Listed"]
    assert listed["leads"] == 8  # 7 by March's running total (February's is 0), 1 on 10 April (the assignments)
    slice_ = rollups.rollup_slice(dt.date(2026, 2, 15), dt.date(2026, 4, 10))
    assert slice_.whole_months == (dt.date(2026, 3, 1),)
    assert rollups.rollup_slice(dt.date(2026, 3, 2), dt.date(2026, 3, 31)).whole_months == ()
    assert rollups.rollup_slice(dt.date(2026, 1, 1), dt.date(2026, 3, 31)).whole_months == (
        *(dt.date(2026, 1, 1), dt.date(2026, 2, 1), dt.date(2026, 3, 1)),
    )


@postgres_only
@pytest.mark.parametrize("team", [False, True])
def test_the_per_rep_table_reads_whole_months_from_the_month_rollups(history, sla_march, team):
    """A month's rows are the sums of its days; a period with a whole month in it (March) reads that month from
    them and its other days (in February and April) from the day rollups, with the same figures."""
    params = {"team": history["emea"].pk} if team else {}
    assign(history["bob"], at(20, month=2))
    assign(history["di"], at(2, 9, month=4))
    assert rollups.rollups_fold() > 0
    march = dt.date(2026, 3, 1)
    for month_model, day_model in [(RepMonthFigures, RepDayFigures), (RepDueMonthFigures, RepDueDayFigures)]:
        fields = [f.name for f in month_model._meta.concrete_fields if f.name not in ("id", "month", "rep_id")]
        for row in month_model.objects.filter(month=march):
            days = day_model.objects.filter(rep_id=row.rep_id, day__gte=march, day__lt=dt.date(2026, 4, 1))
            assert {name: getattr(row, name) for name in fields} == {
                name: sum(getattr(day, name) for day in days) for name in fields
            }
    assert rollups.rollup_slice(dt.date(2026, 2, 15), dt.date(2026, 4, 10)).whole_due_months == (march,)
    assert table(with_rollups=True, **SPRING, **params) == table(with_rollups=False, **SPRING, **params)
    # The month's rows count: shown by making them say something else.
    RepMonthFigures.objects.filter(month=march, rep_id=history["loner"].pk).update(single_assigned=5)
    RepDueMonthFigures.objects.filter(month=march, rep_id=sla_march[0].pk).update(settled=9)
    assert table(with_rollups=True)[history["loner"].pk]["assigned"] == 5
    assert table(with_rollups=True)[sla_march[0].pk]["sla_due"] == 9
    assert table(with_rollups=False)[sla_march[0].pk]["sla_due"] == 5


@postgres_only
def test_pool_fairness_over_months_in_which_nothing_was_assigned(history, pools):
    """May has no assignment at all, between April's and June's; July and August none either, after the last
    one: their running totals are those of the month before them, so any run of whole months reads right."""
    rollups.rollups_fold()
    assign(history["ana"], at(3, month=6), rule=pools["emea"])
    rollups.rollups_fold()
    for period in [("2026-02-01", "2026-07-31"), ("2026-05-01", "2026-05-31"), ("2026-03-01", "2026-08-31")]:
        start, end = period
        expected = fairness(with_rollups=False, start=start, end=end)
        assert fairness(with_rollups=True, start=start, end=end) == expected, period
    july = fairness(with_rollups=False, start="2026-07-01", end="2026-08-31")
    assert fairness(with_rollups=True, start="2026-07-01", end="2026-08-31") == july == []
