"""Ops and managers in a real Chromium at 1400×900: the admin's daily tasks with no JSON, surprises or dead ends.

Debian's /usr/bin/chromium through Playwright (skipped by conftest.py when it is not there).
Screenshots land in screenshots/ (git-ignored); they are looked at when the pages change.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import timezone

from leadops.models import Lead
from leadops.tests.factories import LeadFactory
from reps.tests.factories import RepFactory, TeamFactory
from routing.models import Rule
from routing.tests.factories import AssignmentFactory, RuleConditionFactory, RuleFactory, TerritoryFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(__file__).resolve().parents[2] / "screenshots"
PASSWORD = "ops-Pass-123"
LISTS = ["leadops/lead", "reps/rep", "routing/assignment", "routing/rule"]


@pytest.fixture
def page(chromium):
    """A 1400×900 page (conftest.py's Chromium) that must not reach outside the server."""
    SHOTS.mkdir(exist_ok=True)
    page = chromium.new_context(viewport={"width": 1400, "height": 900}).new_page()
    outside = []
    page.on(
        "request",
        lambda r: outside.append(r.url) if not re.match(r"https?://(localhost|127\.0\.0\.1)", r.url) else None,
    )
    yield page
    assert outside == [], f"the page reached outside: {outside}"


def log_in(page, live_server, username):
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")


@pytest.fixture
def company():
    """A small company whose longest names and e-mails would push a careless list sideways."""
    get_user_model().objects.create_superuser("ops", "ops@example.com", PASSWORD)
    team = TeamFactory(name="EMEA Enterprise Mid-Market Accounts")
    TerritoryFactory(name="DACH", countries=["DE", "AT", "CH"])
    rule = RuleFactory(name="DACH mid-market by round robin", priority=10, pool_team=team)
    RuleConditionFactory(rule=rule, field="country", op="in", value=["DE", "AT", "CH"])
    reps = [RepFactory(team=team, name=f"{n} Longname-Doublebarrel", capacity=40) for n in ("Ana", "Bo", "Cy")]
    for i in range(12):
        lead = LeadFactory(
            email=f"very.long.first.name.number{i}@subsidiary-of-a-big-holding-company.example.com",
            company="Internationale Handelsgesellschaft für Maschinenbau und Anlagentechnik mbH",
            status="assigned",
            owner=reps[i % 3],
        )
        AssignmentFactory(lead=lead, rep=reps[i % 3], rule=rule)
    return reps


def test_ops_writes_a_rule_without_json_and_every_list_fits_1400_px(live_server, company, page):
    log_in(page, live_server, "ops")
    page.goto(f"{live_server.url}/admin/routing/rule/add/")
    page.fill("#id_name", "Big DACH accounts")
    page.fill("#id_priority", "5")
    page.select_option("#id_conditions-0-field_0", "country")
    page.select_option("#id_conditions-0-op", "in_territory")
    assert page.is_visible("#id_conditions-0-value_5") and not page.is_visible("#id_conditions-0-value_0")
    page.select_option("#id_conditions-0-value_5", "DACH")
    page.click("#conditions-group .add-row a")
    page.select_option("#id_conditions-1-field_0", "company_size")
    assert page.eval_on_selector("#id_conditions-1-op option[value=contains]", "o => o.hidden")  # not for numbers
    page.select_option("#id_conditions-1-op", "between")
    page.fill("#id_conditions-1-value_3", "50")
    page.fill("#id_conditions-1-value_4", "999")
    page.screenshot(path=SHOTS / "rule_conditions_editor.png", full_page=True)
    page.click("input[name=_save]")
    page.wait_for_url("**/admin/routing/rule/")
    rule = Rule.objects.get(name="Big DACH accounts")
    assert list(rule.conditions.order_by("position").values_list("field", "op", "value")) == [
        ("country", "in_territory", "DACH"),
        ("company_size", "between", [50, 999]),
    ]
    for path in LISTS:
        page.goto(f"{live_server.url}/admin/{path}/")
        fits = page.evaluate(
            """() => {
                const table = document.querySelector('#result_list');
                const box = table.parentElement;
                return {page: document.scrollingElement.scrollWidth <= window.innerWidth,
                        table: table.getBoundingClientRect().width <= box.clientWidth + 1};
            }"""
        )
        page.screenshot(path=SHOTS / f"list_{path.replace('/', '_')}.png", full_page=True)
        assert fits == {"page": True, "table": True}, path
    assert "company size is between 50 and 999" in page.content()  # the rule list says conditions in words

    # The routing map: the chain in priority order, pools now, marks; a click opens the rule.
    page.click("#routing-map-link")
    page.wait_for_url("**/admin/routing/rule/map/")
    chain = page.locator(".routing-map h3").all_inner_texts()
    assert chain == ["5 · Big DACH accounts", "10 · DACH mid-market by round robin"]
    first = page.locator(f"#map-rule-{rule.pk}").inner_text()
    assert "in territory DACH and company size is between 50 and 999" in first and "its pool is empty" in first
    assert "3 reps, 3 eligible now" in page.locator(".routing-map > li").nth(2).inner_text()
    page.screenshot(path=SHOTS / "routing_map.png", full_page=True)
    page.click(f"#map-rule-{rule.pk} h3 a")
    page.wait_for_url(f"**/admin/routing/rule/{rule.pk}/change/")


def test_ops_deactivates_a_rep_and_only_uncontacted_leads_move(live_server, company, page):
    ana = company[0]
    contacted = list(Lead.objects.filter(owner=ana).order_by("id")[:2])
    Lead.objects.filter(id__in=[lead.id for lead in contacted]).update(first_contacted_at=timezone.now())
    waiting = list(Lead.objects.filter(owner=ana, first_contacted_at__isnull=True).values_list("id", flat=True))
    log_in(page, live_server, "ops")
    page.goto(f"{live_server.url}/admin/reps/rep/{ana.pk}/change/")
    page.uncheck("#id_active")
    page.click("input[name=_save]")
    page.wait_for_url("**/admin/reps/rep/deactivate/**")
    assert page.is_checked("input[name=hand_back][value=uncontacted]")
    assert page.locator("#open-leads tbody tr").count() == 4
    page.screenshot(path=SHOTS / "rep_deactivate_confirmation.png", full_page=True)
    page.click("input[type=submit][value=Deactivate]")
    page.wait_for_url("**/admin/leadops/lead/?id__in=**")
    page.screenshot(path=SHOTS / "rep_deactivate_result.png", full_page=True)
    ana.refresh_from_db()
    assert not ana.active
    assert set(Lead.objects.filter(owner=ana).values_list("id", flat=True)) == {lead.id for lead in contacted}
    moved = Lead.objects.filter(id__in=waiting)
    assert all(lead.owner_id != ana.pk for lead in moved)
    if not settings.REDIS_URL:  # jobs inline: already routed to the others
        assert all(lead.owner_id in (company[1].pk, company[2].pk) for lead in moved)
    assert page.locator("#result_list tbody tr").count() == len(waiting)


def test_a_manager_opens_a_reps_page_from_the_report(live_server, company, page):
    from reports.tests.helpers import manager

    manager(username="mia", password=PASSWORD)
    ana = company[0]
    page.goto(f"{live_server.url}/reports/")
    page.fill("#id_username", "mia")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/reports/")
    page.click(f"tr[data-rep-id='{ana.pk}'] th a")
    page.wait_for_url(f"**/reports/reps/{ana.pk}/")
    assert page.locator("#rep-leads tbody tr").count() == 4
    assert "Assigned" in page.locator("#rep-figures").inner_text()
    assert page.evaluate("document.scrollingElement.scrollWidth <= window.innerWidth")
    page.screenshot(path=SHOTS / "reports_rep_page.png", full_page=True)


def fits_1400(page) -> bool:
    return page.evaluate("document.scrollingElement.scrollWidth <= window.innerWidth")


def test_ops_imports_a_file_with_two_bad_rows_sees_them_and_opens_the_leads_it_created(live_server, page, tmp_path):
    get_user_model().objects.create_superuser("ops", "ops@example.com", PASSWORD)
    long_company = "Internationale Handelsgesellschaft für Maschinenbau und Anlagentechnik mbH"
    lines = ["External ID,First Name,Last Name,E-mail,Company,Country,Employees,Score"]
    for n in range(1, 7):
        lines.append(f"B-{n},Lena{n},Longname-Doublebarrel,lena{n}@subsidiary-example.com,{long_company},DE,250,50")
    lines[3] = "B-3,Bad,Mail,lena3-at-nowhere-" + "x" * 70 + "," + long_company + ",DE,250,50"
    lines[6] = f"B-6,Bad,Size,lena6@subsidiary-example.com,{long_company},DE,-40,50"
    path = tmp_path / "trade-fair-leads.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")

    log_in(page, live_server, "ops")
    page.goto(f"{live_server.url}/admin/leadops/lead/")
    page.click("a.import_link")
    page.wait_for_url("**/admin/leadops/lead/import/")
    assert page.locator("#sample-file").is_visible()
    no_columns = tmp_path / "names-only.csv"
    no_columns.write_text("Name,Company\nAna,Acme\n", encoding="utf-8")
    page.set_input_files("#id_file", str(no_columns))
    page.click("#import-form input[type=submit]")
    page.wait_for_selector("#file-error")
    assert "at least an email or a phone column; it has “Name”, “Company”" in page.inner_text("#file-error")
    page.screenshot(path=SHOTS / "import_file_error.png", full_page=True)
    page.set_input_files("#id_file", str(path))
    page.fill("#id_source", "trade_fair")
    page.click("#import-form input[type=submit]")
    page.wait_for_selector("#import-errors")
    assert page.inner_text("#import-summary") == "4 leads will be created, 2 lines have errors."
    rows = [
        [cell.strip() for cell in row.split("\t")] for row in page.locator("#import-errors tbody tr").all_inner_texts()
    ]
    assert [row[:2] for row in rows] == [["4", "email"], ["7", "company_size"]]
    assert rows[0][2].startswith("lena3-at-nowhere-xxx") and "is not a valid email address" in rows[0][3]
    assert rows[1][2:] == ["-40", "Must be 0 or more."]
    assert fits_1400(page)
    page.screenshot(path=SHOTS / "import_preview.png", full_page=True)
    assert not Lead.objects.exists()

    page.click("#confirm-import")
    page.wait_for_url("**/admin/leadops/importrun/*/change/")
    assert "4 leads created, 2 lines with errors" in page.inner_text(".messagelist")
    assert fits_1400(page)
    page.screenshot(path=SHOTS / "import_result.png", full_page=True)
    page.click("#created-leads")
    page.wait_for_url("**/admin/leadops/lead/?import_run=*")
    page.reload()  # the link is the result: it works again after a reload
    assert page.locator("#result_list tbody tr").count() == 4
    assert set(Lead.objects.values_list("external_id", flat=True)) == {"B-1", "B-2", "B-4", "B-5"}
    assert fits_1400(page)
    page.screenshot(path=SHOTS / "import_created_leads.png", full_page=True)
