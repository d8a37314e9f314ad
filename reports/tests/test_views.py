"""Who may see the reports, what the page and the CSV show, and that queries do not grow with data."""

import csv
import datetime as dt
import io

import pytest
from django.contrib.auth.models import Group, User
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from reports.selectors import leads_per_day_by_team
from reports.tests.helpers import assign, at, convert, event, manager, report_filter
from reps.tests.factories import RepFactory, TeamFactory
from routing.tests.factories import RuleFactory

pytestmark = pytest.mark.django_db

MARCH = "?start=2026-03-01&end=2026-03-31"


@pytest.fixture
def data():
    emea, us = TeamFactory(name="EMEA"), TeamFactory(name="US")
    ana = RepFactory(name="Ana Ruiz", email="ana@example.com", team=emea, capacity=20)
    bob = RepFactory(name="Bob Stone", email="bob@example.com", team=us, capacity=10)
    rule = RuleFactory(name="Everyone", pool_team=emea)
    first = assign(ana, at(3), rule=rule)
    event(first, "contacted", at(3, 10, 2))
    convert(first, at(4))
    assign(ana, at(5), rule=rule)
    assign(bob, at(6), rule=rule)
    return ana, bob


@pytest.fixture
def manager_client(client):
    client.force_login(manager())
    return client


def csv_of(response):
    return list(csv.DictReader(io.StringIO(response.content.decode())))


@pytest.mark.parametrize("url", ["/reports/", "/reports/reps.csv"])
def test_anonymous_visitors_are_sent_to_the_login_page(client, data, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(f"/reports/login/?next={url}")


@pytest.mark.parametrize("url", ["/reports/", "/reports/reps.csv"])
def test_a_logged_in_user_without_the_permission_gets_403_and_no_data(client, data, url):
    client.force_login(User.objects.create_user("rep", password="x"))
    response = client.get(url + MARCH)
    assert response.status_code == 403
    assert b"Ana Ruiz" not in response.content and b"ana@example.com" not in response.content


def test_a_manager_sees_the_per_rep_table(manager_client, data):
    response = manager_client.get("/reports/" + MARCH)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Ana Ruiz" in page and "Bob Stone" in page
    ana, _ = data
    assert f'href="/reports/reps/{ana.pk}/"' in page
    report = response.context["report"]
    assert [(r.name, r.assigned, r.converted) for r in report.rows] == [("Ana Ruiz", 2, 1), ("Bob Stone", 1, 0)]
    assert (report.total.assigned, report.total.converted) == (3, 1)


def test_staff_status_alone_does_not_open_the_reports(client, data):
    client.force_login(User.objects.create_user("ops", password="x", is_staff=True))
    assert client.get("/reports/" + MARCH).status_code == 403
    assert client.get("/reports/reps.csv" + MARCH).status_code == 403
    client.force_login(User.objects.create_superuser("root", password="x"))
    assert client.get("/reports/" + MARCH).status_code == 200


def test_a_manager_can_log_in_on_the_reports_login_page(client, data):
    manager(username="mia", password="pass-Word-123")
    response = client.post(
        "/reports/login/?next=/reports/", {"username": "mia", "password": "pass-Word-123", "next": "/reports/"}
    )
    assert response.status_code == 302 and response["Location"] == "/reports/"
    assert client.get("/reports/").status_code == 200


def test_the_managers_group_made_by_the_migration_grants_the_report_permission():
    group = Group.objects.get(name="Managers")
    assert list(group.permissions.values_list("content_type__app_label", "codename")) == [("reports", "view_reports")]
    user = User.objects.create_user("mia")
    user.groups.add(group)
    assert User.objects.get(pk=user.pk).has_perm("reports.view_reports")


def test_csv_has_the_columns_and_figures_of_the_table(manager_client, data):
    response = manager_client.get("/reports/reps.csv" + MARCH)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = csv_of(response)
    for column in [
        "rep_email",
        "assigned",
        "converted",
        "conversion_rate",
        "misrouted",
        "reassigned",
        "assignment_accuracy",
        "median_speed_to_lead_seconds",
        "open",
        "capacity",
    ]:
        assert column in rows[0]
    ana, bob, total = rows
    assert ana["rep_email"] == "ana@example.com"
    assert (ana["assigned"], ana["converted"], ana["conversion_rate"]) == ("2", "1", "0.5")
    assert (ana["misrouted"], ana["reassigned"], ana["assignment_accuracy"]) == ("0", "0", "1")
    assert ana["median_speed_to_lead_seconds"] == "120"
    assert (ana["open"], ana["capacity"], ana["load"]) == ("1", "20", "0.05")
    assert (bob["assigned"], bob["conversion_rate"], bob["median_speed_to_lead_seconds"]) == ("1", "0", "")
    assert (total["rep_name"], total["rep_email"], total["assigned"]) == ("All reps", "", "3")


def test_csv_follows_the_team_filter_and_the_sort_of_the_page(manager_client, data):
    ana, bob = data
    only_us = csv_of(manager_client.get(f"/reports/reps.csv{MARCH}&team={bob.team_id}"))
    assert [r["rep_email"] for r in only_us] == ["bob@example.com", ""]
    by_conversion = csv_of(manager_client.get(f"/reports/reps.csv{MARCH}&sort=-conversion_rate"))
    assert [r["rep_email"] for r in by_conversion] == ["ana@example.com", "bob@example.com", ""]


def test_the_page_links_to_the_csv_with_the_same_filters(manager_client, data):
    _, bob = data
    page = manager_client.get(f"/reports/{MARCH}&team={bob.team_id}").content.decode()
    assert f"/reports/reps.csv?start=2026-03-01&amp;end=2026-03-31&amp;team={bob.team_id}" in page


def test_period_default_is_the_last_30_days(manager_client):
    rep = RepFactory(name="Ana")
    assign(rep, timezone.now() - dt.timedelta(days=2))
    assign(rep, timezone.now() - dt.timedelta(days=40))
    response = manager_client.get("/reports/")
    start, end = response.context["filters"].period
    assert (end - start).days == 29 and end == timezone.localdate()
    assert response.context["report"].rows[0].assigned == 1


@pytest.mark.parametrize("query", ["?start=2026-03-31&end=2026-03-01", "?start=yesterday"])
def test_bad_filters_are_explained_not_crashed(manager_client, query):
    page = manager_client.get("/reports/" + query)
    assert page.status_code == 400 and b"errors" in page.content
    assert manager_client.get("/reports/reps.csv" + query).status_code == 400


def test_an_empty_period_says_so_instead_of_drawing_empty_charts(manager_client, data):
    page = manager_client.get("/reports/?start=2025-01-01&end=2025-01-31").content.decode()
    assert 'id="chart-conversion-empty"' in page and 'id="chart-per_day-empty"' in page
    assert "No rule assigned leads in this period." in page


def test_charts_carry_a_bar_per_rep_with_assignments(manager_client, data):
    figures = manager_client.get("/reports/" + MARCH).context["figures"]
    assert figures["conversion"]["data"][0]["x"] == ["Ana Ruiz", "Bob Stone"]
    assert figures["conversion"]["data"][0]["y"] == [0.5, 0.0]
    assert [t["name"] for t in figures["per_day"]["data"]] == ["EMEA", "US"]
    assert sum(figures["speed"]["data"][0]["y"]) == 3


def test_plotly_is_served_from_the_installed_package(client):
    response = client.get("/reports/plotly.min.js")
    assert response.status_code == 200
    body = b"".join(response.streaming_content)
    assert b"plotly.js" in body[:2000] and len(body) > 1_000_000


def _add_reps(count, offset):
    team = TeamFactory(name="Team")
    rule = RuleFactory(pool_team=team)
    for i in range(count):
        rep = RepFactory(name=f"Rep {offset + i:03d}", team=team)
        a = assign(rep, at(3 + i % 20), rule=rule)
        event(a, "contacted", at(3 + i % 20, 11))
        if i % 3 == 0:
            convert(a, at(25))


def test_page_and_csv_queries_do_not_grow_with_reps_and_leads(manager_client):
    _add_reps(3, 0)
    counts = []
    for extra in (0, 27):
        _add_reps(extra, 100)
        for url in ("/reports/", "/reports/reps.csv"):
            with CaptureQueriesContext(connection) as queries:
                assert manager_client.get(url + MARCH).status_code == 200
            counts.append(len(queries))
    page_3, csv_3, page_30, csv_30 = counts
    assert (page_30, csv_30) == (page_3, csv_3)
    # 4 are the session, the user and its permissions; 2–3 the report transaction (savepoint, SET LOCAL); 1 the
    # rollups' state and log (reports/rollups.py).
    assert page_3 <= 21 and csv_3 <= 11


def test_each_chart_has_a_data_table_with_its_figures(manager_client, data):
    page = manager_client.get("/reports/" + MARCH).content.decode()
    assert page.count("<summary>Data table</summary>") == 5
    assert (
        '<tr><th scope="row">Ana Ruiz</th><td class="num">2</td><td class="num">1</td><td class="num">50.0 %</td></tr>'
        in page
    )
    assert '<tr><th scope="row">2026-03-06</th><td>US</td><td class="num">1</td></tr>' in page
    assert '<tr><th scope="row">≤ 5 min</th><td class="num">1</td></tr>' in page


def test_existing_owner_decisions_count_as_specific_routing(manager_client):
    rep = RepFactory(name="Ana")
    a = assign(rep, at(3))
    a.strategy, a.rule = "existing_owner", None
    a.save()
    coverage = manager_client.get("/reports/" + MARCH).context["coverage"]
    assert [(r["label"], r["kind"], r["leads"]) for r in coverage.by_rule] == [("Existing owner", "rule", 1)]
    assert coverage.rule_share == 1.0


def test_the_table_the_charts_and_the_csv_show_the_declared_columns(manager_client, data):
    from dataclasses import fields

    from reports.columns import COLUMNS, CSV_COLUMNS, REP_CHARTS, TABLE_COLUMNS
    from reports.selectors import RepRow

    assert {c.key for c in COLUMNS} <= {f.name for f in fields(RepRow)}
    page = manager_client.get("/reports/" + MARCH)
    assert [c["label"] for c in page.context["columns"]] == [c.label for c in TABLE_COLUMNS]
    html = page.content.decode()
    for chart in REP_CHARTS:
        headings = "".join(f'<th scope="col" class="num">{c.label}</th>' for c in chart.columns)
        assert f'<th scope="col">Rep</th>{headings}' in html
    header = manager_client.get("/reports/reps.csv" + MARCH).content.decode().splitlines()[0]
    assert header.split(",") == [c.csv for c in CSV_COLUMNS]


def test_a_manager_opens_a_reps_page_from_the_report(client):
    from leadops.tests.factories import LeadFactory
    from routing.tests.factories import AssignmentFactory

    client.force_login(manager(username="mia2"))
    ana = RepFactory(name="Ana Ruiz")
    lead = LeadFactory(status="converted", owner=ana, first_name="Kim", last_name="Lee", company="Acme")
    assignment = AssignmentFactory(lead=lead, rep=ana)
    lead.first_contacted_at = assignment.created_at + dt.timedelta(minutes=3)
    lead.save()
    report = client.get("/reports/").content.decode()
    assert f'href="/reports/reps/{ana.pk}/"' in report
    page = client.get(f"/reports/reps/{ana.pk}/")
    assert page.status_code == 200
    content = page.content.decode()
    assert "Ana Ruiz" in content and f"#{lead.pk} Kim Lee" in content and "Acme" in content
    assert "Converted" in content and "3 min 0 s" in content
    assert client.get("/reports/reps/999999/").status_code == 404
    client.logout()
    assert client.get(f"/reports/reps/{ana.pk}/").status_code == 302  # to the login


def test_leads_per_day_count_each_lead_once_per_day_and_team_and_name_reps_without_a_team(manager_client, data):
    ana, bob = data
    loner = RepFactory(name="Cy Loner", team=None)
    moved = assign(ana, at(6, 9))
    assign(bob, at(6, 11), lead=moved.lead)  # same day, US: once for EMEA, once for US
    back = assign(ana, at(7, 9))
    assign(RepFactory(name="Di Emea", team=ana.team), at(7, 12), lead=back.lead)  # same day and team: once
    assign(loner, at(7, 13))
    per_day = leads_per_day_by_team(report_filter(start="2026-03-01", end="2026-03-31").qs)
    got = {(p["day"].day, p["team_name"]): p["leads"] for p in per_day}
    assert got == {(3, "EMEA"): 1, (5, "EMEA"): 1, (6, "EMEA"): 1, (6, "US"): 2, (7, "EMEA"): 1, (7, "No team"): 1}
