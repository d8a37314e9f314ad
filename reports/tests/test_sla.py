"""The SLA figures (PRODUCT.md "SLA": `sla_met_rate`, `sla_breaches`) and the routing-health panel
(SLA card, never-fired rules, uneven pools, filters), computed by hand.

The SLA outcomes are written by the real SLA watch (routing.services.sla.sla_watch) over assignments
stamped as the routing writer stamps them (tests/helpers.assign), contacts through the events service.
"""

import csv
import datetime as dt
import io

import pytest
from django.contrib.auth.models import Permission, User
from django.utils import timezone

from leadops.tests.factories import LeadFactory
from reports import charts, selectors
from reports.columns import REP_CHARTS
from reports.tests.helpers import assign, at, event, manager, report, report_filter
from reps.tests.factories import RepFactory, TeamFactory, TimeOffFactory
from routing.models import Assignment, Rule
from routing.services.sla import sla_watch
from routing.tests.factories import AssignmentFactory, RuleFactory

pytestmark = pytest.mark.django_db

MARCH = {"start": "2026-03-01", "end": "2026-03-31"}
APRIL = {"start": "2026-04-01", "end": "2026-04-30"}


def row_of(result, rep):
    return next(r for r in result.rows if r.rep_id == rep.pk)


def test_sla_met_rate_counts_the_slas_due_in_the_period(sla_march):
    ana, ben = sla_march
    march = report(**MARCH)
    ana_row, ben_row = row_of(march, ana), row_of(march, ben)
    # Due in March for Ana: 1, 2, 3, 4, 6; met: 1, 4, 6.
    assert (ana_row.sla_due, ana_row.sla_met, ana_row.sla_breaches) == (5, 3, 2)
    assert ana_row.sla_met_rate == pytest.approx(0.6)
    assert (ben_row.sla_due, ben_row.sla_breaches, ben_row.sla_met_rate) == (1, 0, 1.0)
    assert (march.total.sla_due, march.total.sla_breaches) == (6, 2)
    assert march.total.sla_met_rate == pytest.approx(4 / 6)
    # The one assigned on 31 March fell due in April: April's, although assigned in March.
    april = row_of(report(**APRIL), ana)
    assert (april.assigned, april.sla_due, april.sla_breaches, april.sla_met_rate) == (0, 1, 1, 0.0)


def test_no_sla_due_leaves_the_rate_empty_not_zero(sla_march):
    ana, _ = sla_march
    row = row_of(report(start="2026-03-07", end="2026-03-20"), ana)  # only the Outbound lead (no SLA)
    assert (row.assigned, row.sla_due, row.sla_breaches, row.sla_met_rate) == (1, 0, 0, None)


def test_an_sla_reroute_stays_a_breach_of_the_rep_it_was_taken_from():
    rule = RuleFactory(name="Hot leads", sla_minutes=15, sla_action="reroute")
    ana, ben = RepFactory(name="Ana"), RepFactory(name="Ben")
    first = assign(ana, at(2), rule=rule)
    assert sla_watch(at=at(2, 10, 16)).rerouted == 1
    first.refresh_from_db()
    assert (first.end_reason, first.sla_breached_at) == ("sla_breached", at(2, 10, 16))
    again = assign(ben, at(2, 10, 17), lead=first.lead, rule=rule)  # routing gives it to Ben
    event(again, "contacted", at(2, 10, 20))
    sla_watch(at=at(2, 11))
    march = report(**MARCH)
    ana_row, ben_row = row_of(march, ana), row_of(march, ben)
    assert (ana_row.sla_due, ana_row.sla_breaches, ana_row.sla_met_rate) == (1, 1, 0.0)
    assert (ana_row.reassigned, ana_row.assignment_accuracy) == (0, 1.0)  # not a misroute (PRODUCT.md)
    assert (ben_row.sla_due, ben_row.sla_breaches, ben_row.sla_met_rate) == (1, 0, 1.0)


def test_the_csv_the_table_and_the_chart_carry_the_sla_columns(client, sla_march):
    ana, _ = sla_march
    client.force_login(manager())
    body = client.get("/reports/reps.csv?start=2026-03-01&end=2026-03-31").content.decode()
    by_name = {r["rep_name"]: r for r in csv.DictReader(io.StringIO(body))}
    ana_csv = by_name["Ana"]
    assert (ana_csv["sla_met_rate"], ana_csv["sla_breaches"], ana_csv["sla_due"]) == ("0.6", "2", "5")
    assert (by_name["All reps"]["sla_breaches"], by_name["Ben"]["sla_met_rate"]) == ("2", "1")
    page = client.get("/reports/?start=2026-03-01&end=2026-03-31")
    html = page.content.decode()
    assert f'<tr data-rep-id="{ana.pk}">' in html
    assert '<td class="num" data-col="sla_met_rate">60.0 %</td><td class="num" data-col="sla_breaches">2</td>' in html
    sla_chart = page.context["figures"]["sla"]
    assert sla_chart["data"][0]["x"] == ["Ana", "Ben"] and sla_chart["data"][0]["y"] == [0.6, 1.0]
    assert [c.key for c in REP_CHARTS][-1] == "sla"
    figures = client.get(f"/reports/reps/{ana.pk}/?start=2026-03-01&end=2026-03-31").context["figures"]
    assert (figures.sla_due, figures.sla_breaches, figures.sla_met_rate) == (5, 2, 0.6)  # the rep's page agrees


def test_the_sla_card_counts_breaches_due_now_and_the_worst_rules(client, sla_march):
    # Now: one lead overdue and not yet breached (the watch has not passed), one due in 40 minutes,
    # one in 2 hours (not due now), one contacted in time (settled), one ended (not current).
    now = timezone.now()
    rule = RuleFactory(name="Live", sla_minutes=60)
    cem = RepFactory(name="Cem")
    assign(cem, now - dt.timedelta(minutes=65), rule=rule)
    assign(cem, now - dt.timedelta(minutes=20), rule=rule)
    later = RuleFactory(name="Slow", sla_minutes=180)
    assign(cem, now - dt.timedelta(minutes=60), rule=later)
    settled = assign(cem, now - dt.timedelta(minutes=30), rule=rule)
    Assignment.objects.filter(pk=settled.pk).update(sla_met_at=now - dt.timedelta(minutes=25))
    ended = assign(cem, now - dt.timedelta(minutes=30), rule=rule)
    Assignment.objects.filter(pk=ended.pk).update(ended_at=now - dt.timedelta(minutes=1), end_reason="released")
    # A pooled lead nobody claimed by its due time, in March.
    pooled = LeadFactory(status="pooled", created_at=at(20))
    inbound = RuleFactory(name="Pool 10 min", sla_minutes=10, strategy="pool")
    AssignmentFactory(
        lead=pooled, outcome="pooled", rep=None, rule=inbound, created_at=at(20), sla_due_at=at(20, 10, 10)
    )
    # Another one claimed by Cem 5 minutes after it was pooled: met by the claim (the watch never sees it).
    taken = LeadFactory(status="pooled", created_at=at(22))
    AssignmentFactory(
        lead=taken, outcome="pooled", rep=None, rule=inbound, created_at=at(22), sla_due_at=at(22, 10, 10)
    )
    assign(cem, at(22, 10, 5), lead=taken, decided_by="user")
    sla_watch(at=at(23))

    filters = report_filter(**MARCH)
    sla = selectors.sla_health(due=filters.sla_due(), current=filters.current(), now=now)
    assert (sla.due, sla.breaches, sla.pooled_breaches) == (8, 3, 1)
    assert sla.met_rate == pytest.approx(5 / 8)
    assert (sla.overdue, sla.due_within_hour, sla.due_now) == (1, 1, 2)
    assert [(r["rule"], r["breaches"], r["due"]) for r in sla.worst_rules] == [("Inbound", 2, 6), ("Pool 10 min", 1, 2)]
    assert sla.worst_rules[0]["rate"] == pytest.approx(2 / 6)
    Rule.objects.filter(name="Inbound").update(name="Inbound EMEA")  # renamed since: read under its name now
    renamed = selectors.sla_health(due=filters.sla_due(), current=filters.current(), now=now)
    assert [r["rule"] for r in renamed.worst_rules] == ["Inbound EMEA", "Pool 10 min"]
    Rule.objects.filter(name="Inbound EMEA").update(name="Inbound")

    client.force_login(manager())
    html = client.get("/reports/?start=2026-03-01&end=2026-03-31").content.decode()
    assert 'id="sla-card"' in html and "“Due now”: current leads not contacted yet" in html
    assert 'href="?start=2026-03-01&amp;end=2026-03-31&amp;sort=-sla_breaches#rep-table"' in html
    assert "/admin/" not in html.split('id="sla-card"')[1].split("</table>")[0]  # a manager cannot open the admin
    # Nor can a manager who was given the admin's view permissions but no admin access: no link to a login page.
    viewer = manager("viewer")
    viewer.user_permissions.add(*Permission.objects.filter(codename__in=["view_lead", "view_assignment"]))
    client.force_login(viewer)
    html = client.get("/reports/?start=2026-03-01&end=2026-03-31").content.decode()
    assert "/admin/" not in html.split('id="sla-card"')[1].split("</table>")[0]
    client.force_login(User.objects.create_superuser("ops"))
    html = client.get("/reports/?start=2026-03-01&end=2026-03-31").content.decode()
    inbound_id = Assignment.objects.filter(rule__name="Inbound").values_list("rule_id", flat=True).first()
    link = (
        f"/admin/routing/assignment/?rule__id__exact={inbound_id}&amp;sla_breached_at__isempty=0"
        "&amp;sla_due_at__date__gte=2026-03-01&amp;sla_due_at__date__lte=2026-03-31"
    )
    assert link in html and 'href="/admin/leadops/lead/?sla=due_soon"' in html
    admin_list = client.get(link.replace("&amp;", "&"))
    assert admin_list.status_code == 200 and admin_list.context["cl"].result_count == 2


def test_rules_with_no_decision_in_the_period_are_shown_as_never_fired(client):
    ana = RepFactory(name="Ana")
    fired = RuleFactory(name="Fired", priority=10)
    RuleFactory(name="Silent", priority=20)
    RuleFactory(name="Switched off", priority=30, active=False)
    april = RuleFactory(name="Only in April", priority=40)
    assign(ana, at(3), rule=fired)
    assign(ana, at(3, month=4), rule=april)
    filters = report_filter(**MARCH)
    assert [r["name"] for r in selectors.never_fired(filters.decisions())] == ["Silent", "Only in April"]
    client.force_login(manager())
    html = client.get("/reports/?start=2026-03-01&end=2026-03-31").content.decode()
    assert '<tr class="never-fired"><td>Silent</td><td><strong>never fired</strong> in this period</td>' in html
    assert "Switched off" not in html


def test_the_team_filter_applies_to_the_routing_health_panel():
    emea, us = TeamFactory(name="EMEA"), TeamFactory(name="US")
    ana, bob = RepFactory(name="Ana", team=emea), RepFactory(name="Bob", team=us)
    emea_rule = RuleFactory(name="EMEA", pool_team=emea, sla_minutes=30)
    us_rule = RuleFactory(name="US", pool_team=us, sla_minutes=30)
    for day in (2, 3, 4):
        assign(ana, at(day), rule=emea_rule)
    assign(bob, at(5), rule=us_rule)
    stuck = LeadFactory(status="unroutable", created_at=at(6))
    AssignmentFactory(lead=stuck, outcome="unroutable", rep=None, rule=None, created_at=at(6))
    for rule in (emea_rule, us_rule):  # one lead waiting in each team's pool
        lead = LeadFactory(status="pooled", created_at=at(7))
        AssignmentFactory(lead=lead, outcome="pooled", rep=None, rule=rule, created_at=at(7), sla_due_at=at(7, 10, 30))
    sla_watch(at=at(10))  # nobody called: 4 breaches (3 Ana, 1 Bob) and the 2 pooled leads

    def panel(**params):
        filters = report_filter(**MARCH, **params)
        scope = filters.reps() if filters.narrowed else None
        coverage = selectors.rule_coverage(
            since=filters.since, until=filters.until, source=filters.lead_source, reps=scope
        )
        waiting = selectors.waiting_now(filters.leads(whole_history=True), reps=scope)
        sla = selectors.sla_health(due=filters.sla_due(), current=filters.current())
        fairness = selectors.pool_fairness(assignments=filters.qs, reps=filters.reps())
        return coverage, waiting, sla, fairness

    coverage, waiting, sla, fairness = panel()
    assert (coverage.decided, coverage.unroutable, waiting["unroutable"], waiting["pooled"]) == (7, 1, 1, 2)
    assert (sla.breaches, sla.pooled_breaches) == (6, 2)
    assert [p["rule"] for p in fairness] == ["EMEA", "US"]
    coverage, waiting, sla, fairness = panel(team=emea.pk)
    assert (coverage.decided, coverage.rule + coverage.fallback, coverage.unroutable) == (3, 3, 0)
    assert (waiting["unroutable"], waiting["pooled"]) == (None, 1)
    assert (sla.breaches, sla.pooled_breaches, [r["rule"] for r in sla.worst_rules]) == (3, 0, ["EMEA"])
    assert [p["rule"] for p in fairness] == ["EMEA"]
    _, _, sla, _ = panel(source="nowhere")
    assert sla.breaches == 0


def _rotation(strategy, counts, weights=None):
    team = TeamFactory()
    rule = RuleFactory(name=f"{strategy} pool", pool_team=team, strategy=strategy)
    for i, count in enumerate(counts):
        rep = RepFactory(name=f"Rep {i}", team=team, weight=(weights or {}).get(i, 1))
        for n in range(count):
            assign(rep, at(2 + n % 25, 9 + i), rule=rule)
    filters = report_filter(**MARCH)
    [pool] = selectors.pool_fairness(assignments=filters.qs, reps=filters.reps())
    return pool


@pytest.mark.parametrize(
    ("strategy", "counts", "weights", "uneven"),
    [
        ("round_robin", [12, 2, 7], None, True),  # spread 10 > 1 + max(1, 10 % of 7)
        ("round_robin", [6, 5, 4], None, False),  # spread 2 ≤ 1 + 1: within the allowance
        ("round_robin", [6, 3], {1: "0.5"}, True),  # round robin ignores weights: 6 vs 3 is uneven
        ("weighted", [6, 3], {1: "0.5"}, False),  # 6 ÷ 1 = 3 ÷ 0.5: even
        ("weighted", [6, 1], {1: "0.5"}, True),  # 6 vs 2, spread 4 > 1 ÷ 0.5 + 1
        ("load_balanced", [12, 2], None, False),  # not a rotation: never flagged
    ],
)
def test_a_rotation_more_uneven_than_its_strategy_allows_is_flagged_in_words(strategy, counts, weights, uneven):
    pool = _rotation(strategy, counts, weights)
    assert bool(pool["flag"]) is uneven
    if uneven:
        assert pool["flag"].startswith(f"Uneven: {pool['most']:.1f} vs {pool['least']:.1f}")
        assert "allows about" in pool["flag"]


def test_a_rotation_per_matched_territory_is_not_compared_across_territories(client):
    # DACH gets 12 leads and APAC 2 from one rule: two rotations, each even, not one uneven pool.
    team = TeamFactory()
    rule = RuleFactory(name="Regional", pool_team=team, strategy="round_robin", pool_matched_territory=True)
    for i, count in enumerate([12, 2]):
        rep = RepFactory(name=f"Rep {i}", team=team)
        for n in range(count):
            assign(rep, at(2 + n % 25, 9 + i), rule=rule)
    filters = report_filter(**MARCH)
    [pool] = selectors.pool_fairness(assignments=filters.qs, reps=filters.reps())
    assert (pool["spread"], pool["flag"], pool["per_territory_rotation"]) == (10.0, "", True)
    client.force_login(manager())
    html = client.get("/reports/?start=2026-03-01&end=2026-03-31").content.decode()
    assert "one rotation per matched territory: not compared across territories" in html
    assert "Uneven:" not in html


def test_the_rate_axes_fit_the_data():
    assert charts.axis_top([0.27, 0.1]) == 0.3
    assert charts.axis_top([0.03]) == 0.05
    assert charts.axis_top([0.0]) == 0.05
    assert charts.axis_top([0.95, 1.0]) == 1.0


def test_reps_away_or_inactive_are_marked_in_the_table_and_the_charts(client):
    ana = RepFactory(name="Ana")
    away = RepFactory(name="Bo")
    gone = RepFactory(name="Cy")
    for rep in (ana, away, gone):
        event(assign(rep, at(3)), "converted", at(4))
    now = timezone.now()
    back = now + dt.timedelta(days=3)
    TimeOffFactory(rep=away, start=now - dt.timedelta(days=1), end=back)
    TimeOffFactory(rep=ana, start=now - dt.timedelta(days=10), end=now - dt.timedelta(days=5))  # over
    gone.active = False
    gone.save()
    marks = {r.name: r.mark for r in report(**MARCH).rows}
    until = timezone.localtime(back)
    assert marks == {"Ana": "", "Bo": f"away until {until.day} {until:%b}", "Cy": "inactive"}
    client.force_login(manager())
    page = client.get("/reports/?start=2026-03-01&end=2026-03-31")
    html = page.content.decode()
    assert f'>Bo</a> <span class="mark">away until {until.day} {until:%b}</span></th>' in html
    assert '>Cy</a> <span class="mark">inactive</span></th>' in html
    conversion = page.context["figures"]["conversion"]
    assert conversion["data"][0]["x"] == ["Ana", f"Bo (away until {until.day} {until:%b})", "Cy (inactive)"]
    assert conversion["layout"]["yaxis"]["range"] == [0, 1.0]
