"""The metric definitions (PRODUCT.md "Metrics") against small hand-computed fixtures."""

import datetime as dt

import pytest

from leadops.tests.factories import LeadFactory
from reports import selectors
from reports.tests.helpers import assign, at, convert, end, event, report_filter
from reports.tests.helpers import report as march_report
from reps.tests.factories import RepFactory, TeamFactory
from routing.tests.factories import AssignmentFactory, RuleConditionFactory, RuleFactory, TerritoryFactory

pytestmark = pytest.mark.django_db

MARCH = {"start": "2026-03-01", "end": "2026-03-31"}


def report(**params):
    return march_report(**{**MARCH, **params})


def row_of(result, rep):
    return next(r for r in result.rows if r.rep_id == rep.pk)


@pytest.fixture
def ana_and_ben():
    """Ana gets 10 leads in March: 3 converted, 1 misrouted, 1 reassigned within 7 days, 1 after 8 days.

    She contacted 6 of them after 60, 120, 240, 400, 600 and 3600 seconds.
    """
    team = TeamFactory(name="EMEA")
    ana = RepFactory(name="Ana", team=team, capacity=20)
    ben = RepFactory(name="Ben", team=team, capacity=10)
    mine = [assign(ana, at(2 + i)) for i in range(10)]
    for a, seconds in zip(mine, [60, 120, 240, 400, 600, 3600], strict=False):
        event(a, "contacted", a.created_at + dt.timedelta(seconds=seconds))
    for a in mine[:3]:
        convert(a, a.created_at + dt.timedelta(days=1))
    # Flagged misrouted after an hour, then the engine sends it to Ben.
    flagged = mine[3]
    event(flagged, "misrouted", flagged.created_at + dt.timedelta(hours=1))
    end(flagged, flagged.created_at + dt.timedelta(hours=1), "misrouted")
    assign(ben, flagged.created_at + dt.timedelta(hours=1, seconds=1), lead=flagged.lead)
    # Ops hand one to Ben after 3 days (counts), another after 8 days (stuck: outside 7 days).
    moved = mine[4]
    end(moved, moved.created_at + dt.timedelta(days=3), "reassigned")
    assign(ben, moved.created_at + dt.timedelta(days=3), lead=moved.lead, decided_by="user")
    late = mine[5]
    end(late, late.created_at + dt.timedelta(days=8), "reassigned")
    assign(ben, late.created_at + dt.timedelta(days=8), lead=late.lead, decided_by="user")
    return ana, ben


def test_rep_with_ten_assigned_three_converted_one_misrouted_one_reassigned(ana_and_ben):
    ana, _ = ana_and_ben
    row = row_of(report(), ana)
    assert (row.assigned, row.converted, row.contacted) == (10, 3, 6)
    assert row.conversion_rate == pytest.approx(0.3)
    assert (row.assignments, row.misrouted, row.reassigned) == (10, 1, 1)
    assert row.assignment_accuracy == pytest.approx(0.8)
    assert row.median_speed == pytest.approx(320.0)  # (240 + 400) / 2
    assert row.within_5_min_share == pytest.approx(0.3)  # 60, 120, 240 s of 10 assignments
    assert row.buckets == [3, 2, 1, 0, 0, 0]  # ≤5 min, 5–15 min, 15–60 min, …


def test_the_table_without_the_speed_chart_has_the_same_figures_and_no_histogram(ana_and_ben):
    """The CSV and a rep's page ask for no speed buckets (only the page's chart shows them): every other
    figure is the one the page computes."""
    ana, ben = ana_and_ben
    filters = report_filter(**MARCH)
    plain = selectors.rep_report(assignments=filters.qs, due=filters.sla_due(), reps=filters.reps())
    charted = report()
    assert charted.total.buckets == [3, 2, 1, 0, 0, 0] and row_of(charted, ana).buckets == [3, 2, 1, 0, 0, 0]
    assert plain.total.buckets == [] and row_of(plain, ana).buckets == []
    for rep in (ana, ben):
        assert {**vars(row_of(plain, rep)), "buckets": None} == {**vars(row_of(charted, rep)), "buckets": None}
    assert {**vars(plain.total), "buckets": None} == {**vars(charted.total), "buckets": None}


def test_the_medians_read_apart_are_the_tables_own(ana_and_ben):
    """A long period reads the medians beside the rest of the table (reports.page): the table without them, and
    them alone, put together, are the table (on either database)."""
    ana, ben = ana_and_ben
    filters = report_filter(**MARCH)
    whole = selectors.rep_report(assignments=filters.qs, due=filters.sla_due(), reps=filters.reps())
    apart = selectors.rep_report(assignments=filters.qs, due=filters.sla_due(), reps=filters.reps(), medians=False)
    assert row_of(apart, ana).median_speed is None and apart.total.median_speed is None
    medians = selectors.speed_medians(filters.qs)
    assert medians[ana.pk] == pytest.approx(320.0)  # (240 + 400) / 2
    selectors.with_medians(apart, medians)
    assert [vars(row) for row in apart.rows] == [vars(row) for row in whole.rows]
    assert vars(apart.total) == vars(whole.total)


def test_open_now_and_load_count_only_leads_the_rep_holds_assigned(ana_and_ben):
    ana, ben = ana_and_ben
    result = report()
    # Ana: 10 − 3 converted − 3 taken by Ben = 4 open of 20; Ben holds the 3 he got, of 10.
    assert (row_of(result, ana).open, row_of(result, ana).load) == (4, pytest.approx(0.2))
    assert (row_of(result, ben).open, row_of(result, ben).load) == (3, pytest.approx(0.3))
    assert (result.total.open, result.total.capacity) == (7, 30)


def test_the_rep_who_received_a_lead_is_credited_not_the_one_who_lost_it(ana_and_ben):
    _, ben = ana_and_ben
    row = row_of(report(), ben)
    assert (row.assigned, row.converted, row.contacted, row.misrouted, row.reassigned) == (3, 0, 0, 0, 0)
    assert row.conversion_rate == 0
    assert row.median_speed is None
    assert row.within_5_min_share == 0


def test_totals_count_each_lead_once_across_reps(ana_and_ben):
    total = report().total
    assert total.assigned == 10  # Ben's 3 are Ana's leads again
    assert total.assignments == 13
    assert total.converted == 3
    assert total.conversion_rate == pytest.approx(0.3)
    assert total.assignment_accuracy == pytest.approx(11 / 13)
    assert total.median_speed == pytest.approx(320.0)


def test_a_contact_by_someone_else_or_before_the_assignment_is_not_speed_to_lead():
    ana, ben = RepFactory(name="Ana"), RepFactory(name="Ben")
    a = assign(ana, at(5))
    event(a, "contacted", at(5, 9))  # Ana's, dated before the assignment
    event(a, "contacted", at(5, 10, 30))
    event(a, "contacted", at(5, 11))  # not the first
    assign(ben, at(5, 12), lead=a.lead, decided_by="user")
    event(a, "contacted", at(5, 10, 1))  # Ben's, dated while Ana held the lead
    assert row_of(report(), ana).median_speed == pytest.approx(1800)
    assert row_of(report(), ben).median_speed is None


def test_a_rep_flagging_the_same_lead_on_a_later_assignment_does_not_spoil_the_earlier_one():
    ana, ben = RepFactory(name="Ana"), RepFactory(name="Ben")
    first = assign(ana, at(2))
    end(first, at(12), "reassigned")
    assign(ben, at(12), lead=first.lead, decided_by="user")  # 10 days later: Ana's first one stuck
    again = assign(ana, at(20), lead=first.lead, decided_by="user")
    event(again, "misrouted", at(20, 12))
    end(again, at(20, 12), "misrouted")
    row = row_of(report(), ana)
    assert (row.assigned, row.assignments, row.misrouted, row.reassigned) == (1, 2, 1, 0)
    assert row.assignment_accuracy == pytest.approx(0.5)


def test_an_sla_reroute_to_another_rep_does_not_count_against_accuracy():
    ana, ben = RepFactory(name="Ana"), RepFactory(name="Ben")
    first = assign(ana, at(2))
    end(first, at(2, 11), "sla_breached")  # the SLA watch sent it back to routing
    assign(ben, at(2, 12), lead=first.lead)
    row = row_of(report(), ana)
    assert (row.assignments, row.reassigned, row.assignment_accuracy) == (1, 0, 1.0)


def test_reassignment_back_to_the_same_rep_is_not_a_reassignment():
    ana = RepFactory(name="Ana")
    first = assign(ana, at(2))
    assign(ana, at(3), lead=first.lead)  # routed again to Ana
    row = row_of(report(), ana)
    assert (row.assigned, row.assignments, row.reassigned, row.assignment_accuracy) == (1, 2, 0, 1.0)


def test_a_reassignment_after_the_period_still_counts_against_an_assignment_in_it():
    ana, ben = RepFactory(name="Ana"), RepFactory(name="Ben")
    a = assign(ana, at(31, 20))
    assign(ben, at(2, 9, month=4), lead=a.lead, decided_by="user")
    assert row_of(report(), ana).reassigned == 1
    assert row_of(report(), ben).assigned == 0


def test_period_dates_are_inclusive():
    ana = RepFactory(name="Ana")
    assign(ana, dt.datetime(2026, 2, 28, 23, 59, 59, 999999, tzinfo=dt.UTC))
    assign(ana, at(1, 0, 0))
    assign(ana, dt.datetime(2026, 3, 31, 23, 59, 59, 999999, tzinfo=dt.UTC))
    assign(ana, at(1, 0, 0, month=4))
    assert row_of(report(), ana).assigned == 2
    assert row_of(report(start="2026-03-31", end="2026-03-31"), ana).assigned == 1


def test_period_dates_are_days_in_the_server_time_zone(settings):
    settings.TIME_ZONE = "Europe/Berlin"  # UTC+1 in March before the 29th
    ana = RepFactory(name="Ana")
    assign(ana, dt.datetime(2026, 2, 28, 23, 30, tzinfo=dt.UTC))  # 1 March 00:30 in Berlin
    assign(ana, dt.datetime(2026, 2, 28, 22, 30, tzinfo=dt.UTC))  # still February in Berlin
    assert row_of(report(start="2026-03-01", end="2026-03-01"), ana).assigned == 1


def test_empty_period_shows_every_active_rep_with_nothing_to_rate():
    ana = RepFactory(name="Ana")
    assign(ana, at(1, month=2))
    result = report()
    row = row_of(result, ana)
    assert (row.assigned, row.converted, row.assignments, row.misrouted, row.reassigned) == (0, 0, 0, 0, 0)
    assert (row.conversion_rate, row.assignment_accuracy, row.median_speed, row.within_5_min_share) == (None,) * 4
    assert (result.total.assigned, result.total.conversion_rate) == (0, None)


def test_reps_with_no_leads_are_listed_and_inactive_ones_only_when_they_had_leads():
    ana = RepFactory(name="Ana")
    idle = RepFactory(name="Idle")
    gone = RepFactory(name="Gone", active=False)
    left = RepFactory(name="Left", active=False)
    assign(ana, at(3))
    assign(left, at(4))
    names = [r.name for r in report().rows]
    assert names == ["Ana", "Idle", "Left"]
    assert row_of(report(), idle).assigned == 0
    assert gone.pk not in [r.rep_id for r in report().rows]


def test_team_territory_and_source_filters():
    emea, us = TeamFactory(name="EMEA"), TeamFactory(name="US")
    europe = TerritoryFactory(name="Europe", countries=[])
    dach = TerritoryFactory(name="DACH", parent=europe, countries=["DE", "AT", "CH"])
    ana = RepFactory(name="Ana", team=emea, territories=[dach])
    bob = RepFactory(name="Bob", team=us)
    assign(ana, at(3), source="webinar")
    assign(ana, at(4), source="web_form")
    assign(bob, at(5), source="webinar")
    assert [r.name for r in report(team=emea.pk).rows] == ["Ana"]
    assert [r.name for r in report(territory=europe.pk).rows] == ["Ana"]  # a territory inside counts
    by_source = report(source="webinar")
    assert [(r.name, r.assigned) for r in by_source.rows] == [("Ana", 1), ("Bob", 1)]
    assert by_source.total.assigned == 2


def test_rule_coverage_reads_each_leads_first_decision():
    ana = RepFactory(name="Ana")
    specific = RuleFactory(name="DACH airlines")
    RuleConditionFactory(rule=specific)
    catch_all = RuleFactory(name="Everyone else")
    for day in (2, 3, 4, 5):
        assign(ana, at(day), rule=specific)
    assign(ana, at(6), rule=catch_all)
    assign(ana, at(7), rule=None, decided_by="user")
    stuck = LeadFactory(status="unroutable", created_at=at(8))
    AssignmentFactory(lead=stuck, outcome="unroutable", rep=None, rule=None, created_at=at(8))
    later = LeadFactory(status="unroutable", created_at=at(9))
    AssignmentFactory(lead=later, outcome="unroutable", rep=None, rule=None, created_at=at(9))
    assign(ana, at(10), lead=later, decided_by="user")  # first decision was still unroutable
    LeadFactory(status="pending", created_at=at(11))
    filters = report_filter(**MARCH)
    coverage = selectors.rule_coverage(since=filters.since, until=filters.until)
    assert (coverage.rule, coverage.fallback, coverage.unroutable, coverage.not_routed) == (4, 2, 2, 1)
    assert coverage.rule_share == pytest.approx(0.5)
    assert coverage.unroutable_share == pytest.approx(0.25)
    assert {r["label"]: r["leads"] for r in coverage.by_rule} == {
        "DACH airlines": 4,
        "Everyone else": 1,
        "Manual (by a user)": 1,
        "Unroutable": 2,
    }
    assert selectors.waiting_now(report_filter(**MARCH).leads(whole_history=True))["unroutable"] == 1


def test_rule_coverage_counts_the_leads_that_came_in_in_the_period_whenever_they_were_decided():
    ana = RepFactory(name="Ana")
    inbound = RuleFactory(name="Inbound")
    RuleConditionFactory(rule=inbound)
    early = LeadFactory(status="assigned", owner=ana, source="web", created_at=at(28, 23, 50, month=2))
    AssignmentFactory(lead=early, rep=ana, rule=inbound, created_at=at(1, 0, 10))  # came in before March
    late = LeadFactory(status="assigned", owner=ana, source="webinar", created_at=at(31, 23, 55))
    AssignmentFactory(lead=late, rep=ana, rule=inbound, created_at=at(1, 0, 5, month=4))  # decided in April
    assign(ana, at(10), rule=inbound, source="web")
    assign(ana, at(12), rule=None, decided_by="user", source="web")

    def coverage(**params):
        filters = report_filter(**MARCH, **params)
        return selectors.rule_coverage(since=filters.since, until=filters.until, source=filters.lead_source)

    march = coverage()
    assert (march.decided, march.rule, march.fallback) == (3, 2, 1)
    assert {r["label"]: r["leads"] for r in march.by_rule} == {"Inbound": 2, "Manual (by a user)": 1}
    webinar = coverage(source="webinar")
    assert (webinar.decided, webinar.rule) == (1, 1)
    assert (coverage(source="web").decided, coverage(source="other").decided) == (2, 0)


def test_pool_fairness_is_the_weight_adjusted_spread_within_a_rules_pool():
    team = TeamFactory(name="EMEA")
    ana = RepFactory(name="Ana", team=team, weight=1)
    ben = RepFactory(name="Ben", team=team, weight="0.5")
    RepFactory(name="Cem", team=team)  # in the pool, got nothing
    rule = RuleFactory(name="EMEA weighted", pool_team=team, strategy="weighted")
    for day in (2, 3, 4, 5):
        assign(ana, at(day), rule=rule)
    for day in (6, 7):
        assign(ben, at(day), rule=rule)
    filters = report_filter(**MARCH)
    [pool] = selectors.pool_fairness(assignments=filters.qs, reps=filters.reps())
    assert (pool["rule"], pool["reps"], pool["leads"]) == ("EMEA weighted", 3, 6)
    assert (pool["most"], pool["least"], pool["spread"]) == (4.0, 0.0, 4.0)  # Ana 4/1, Ben 2/0.5, Cem 0


def test_the_source_suggestions_are_the_sources_seen_in_the_period():
    for source, day, month in [
        ("webinar", 31, 3),
        ("web", 1, 3),
        ("web", 2, 3),
        ("partner", 28, 2),
        ("trade show", 1, 4),
    ]:
        LeadFactory(source=source, created_at=at(day, 0, 0, month=month))
    LeadFactory(source="Web", created_at=at(28, 23, 59, month=2))
    filters = report_filter(**MARCH)
    assert selectors.sources_seen(since=filters.since, until=filters.until) == ["web", "webinar"]
    april = report_filter(start="2026-04-01", end="2026-04-30")
    assert selectors.sources_seen(since=april.since, until=april.until) == ["trade show"]
