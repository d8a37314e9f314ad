"""A manager opens the reports in a real Chromium, changes the period and sees the charts drawn.

Runs Debian's /usr/bin/chromium through Playwright (never `playwright install`); skipped by
conftest.py when it is not installed. The screenshot lands in test-results/ (gitignored).
"""

import datetime as dt
import re
from pathlib import Path

import pytest

from reports.tests.helpers import assign, at, convert, end, event, manager
from reps.tests.factories import RepFactory, TeamFactory
from routing.tests.factories import RuleFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

RESULTS = Path(__file__).resolve().parents[2] / "test-results"
# Per rep: (name, team, leads assigned in March 2026, converted, contacted after seconds …)
REPS = [
    ("Ana Ruiz", "EMEA", 5, 3, [60, 200, 900]),
    ("Ben Okafor", "EMEA", 4, 1, [30]),
    ("Chloé Martin", "US West", 6, 2, [100, 5000, 20000, 90000]),
    ("Dev Patel", "US West", 3, 0, []),
]


@pytest.fixture
def march_data():
    teams, rule = {}, RuleFactory(name="Round robin")
    for name, team, assigned, converted, speeds in REPS:
        rep = RepFactory(name=name, team=teams.setdefault(team, TeamFactory(name=team)))
        mine = [assign(rep, at(2 + i * 3, 9 + i), rule=rule) for i in range(assigned)]
        for a, seconds in zip(mine, speeds, strict=False):
            event(a, "contacted", a.created_at + dt.timedelta(seconds=seconds))
        for a in mine[:converted]:
            convert(a, a.created_at + dt.timedelta(days=2))
    # Dev flags one lead misrouted: his accuracy drops to 2/3.
    dev = rep  # the last one
    flagged = dev.assignments.order_by("created_at").first()
    event(flagged, "misrouted", flagged.created_at + dt.timedelta(minutes=10))
    end(flagged, flagged.created_at + dt.timedelta(minutes=10), "misrouted")


@pytest.fixture
def page(chromium):
    context = chromium.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    outside = []
    page.on(
        "request",
        lambda request: (
            outside.append(request.url) if not re.match(r"https?://(localhost|127\.0\.0\.1)", request.url) else None
        ),
    )
    yield page
    assert outside == [], f"the page reached outside: {outside}"


def test_manager_sees_charts_and_table_for_the_chosen_period(live_server, march_data, page):
    manager(username="mia", password="pass-Word-123")
    page.goto(f"{live_server.url}/reports/")
    assert "/reports/login/" in page.url
    page.fill("#id_username", "mia")
    page.fill("#id_password", "pass-Word-123")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/reports/")
    # The default period (the last 30 days) holds nothing: empty states, no charts.
    assert page.locator("#chart-conversion-empty").is_visible()

    page.fill("#id_start", "2026-03-01")
    page.fill("#id_end", "2026-03-31")
    page.click("#filters button[type=submit]")
    page.wait_for_url(re.compile(r"start=2026-03-01&end=2026-03-31"))
    page.wait_for_selector("#chart-speed .main-svg", timeout=15_000)

    reps = len(REPS)
    bars = "g.trace.bars g.point"
    assert page.locator(f"#chart-conversion {bars}").count() == reps
    assert page.locator(f"#chart-accuracy {bars}").count() == reps
    assert page.locator("#chart-per_day g.trace.bars").count() == 2  # one stacked trace per team
    assert page.locator(f"#chart-speed {bars}").count() == 7  # six time buckets + not contacted
    assert page.locator("#chart-conversion .xtick text").all_text_contents() == [r[0] for r in REPS]

    rows = page.locator("#rep-table tbody tr")
    assert rows.count() == reps
    table = {
        rows.nth(i).locator("th").inner_text(): (
            rows.nth(i).locator("[data-col=assigned]").inner_text(),
            rows.nth(i).locator("[data-col=converted]").inner_text(),
            rows.nth(i).locator("[data-col=conversion_rate]").inner_text(),
            rows.nth(i).locator("[data-col=assignment_accuracy]").inner_text(),
        )
        for i in range(reps)
    }
    assert table == {
        "Ana Ruiz": ("5", "3", "60.0 %", "100.0 %"),
        "Ben Okafor": ("4", "1", "25.0 %", "100.0 %"),
        "Chloé Martin": ("6", "2", "33.3 %", "100.0 %"),
        "Dev Patel": ("3", "0", "0.0 %", "66.7 %"),
    }
    totals = page.locator("#totals")
    assert totals.locator("[data-col=assigned]").inner_text() == "18"
    assert totals.locator("[data-col=converted]").inner_text() == "6"

    RESULTS.mkdir(exist_ok=True)
    page.screenshot(path=str(RESULTS / "reports-page.png"), full_page=True)

    # Sorting by conversion rate (twice = descending) reorders the table.
    page.click("#rep-table th[data-key=conversion_rate] a")
    page.click("#rep-table th[data-key=conversion_rate] a")
    page.wait_for_url(re.compile(r"sort=-conversion_rate"))
    assert page.locator("#rep-table tbody th").all_inner_texts() == [
        "Ana Ruiz",
        "Chloé Martin",
        "Ben Okafor",
        "Dev Patel",
    ]


@pytest.fixture
def sla_data(march_data):
    """March with SLAs: Ana's and Ben's leads came through a 30-minute SLA rule (the watch settles
    them), a rule never fired, Dev is away now."""
    from django.utils import timezone

    from reps.models import Rep, Team
    from reps.tests.factories import TimeOffFactory
    from routing.models import Assignment
    from routing.services.sla import sla_watch

    inbound = RuleFactory(name="Inbound web forms, 30-minute SLA", sla_minutes=30)
    RuleFactory(name="Trade-show leads (DACH)")  # active, no decision in March
    Assignment.objects.filter(rep__name__in=["Ana Ruiz", "Ben Okafor"]).update(rule=inbound, rule_name=inbound.name)
    for a in Assignment.objects.filter(rule=inbound):
        Assignment.objects.filter(pk=a.pk).update(sla_due_at=a.created_at + dt.timedelta(minutes=30))
    sla_watch(at=at(1, month=4))
    TimeOffFactory(rep=Rep.objects.get(name="Dev Patel"), start=timezone.now() - dt.timedelta(days=1))
    # A team name as long as real ones (the demo's "EMEA Mid-Market"): the 16-column table must still fit.
    Team.objects.filter(name="EMEA").update(name="EMEA Mid-Market Enterprise")


def test_manager_sees_the_sla_card_and_never_fired_rules_at_1400_px(live_server, sla_data, page):
    manager(username="mia", password="pass-Word-123")
    page.set_viewport_size({"width": 1400, "height": 900})
    page.goto(f"{live_server.url}/reports/login/?next=/reports/%3Fstart%3D2026-03-01%26end%3D2026-03-31")
    page.fill("#id_username", "mia")
    page.fill("#id_password", "pass-Word-123")
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"start=2026-03-01"))
    page.wait_for_selector("#chart-sla .main-svg", timeout=15_000)

    card = page.locator("#sla-card")
    assert card.is_visible()
    # Ana contacted 3 of her 5 within 30 minutes (after 60, 200 and 900 s), Ben 1 of 4 (after 30 s).
    assert page.locator("#sla-breaches").inner_text() == "5"
    assert page.locator("#sla-met-rate").inner_text() == "44.4 %"  # 4 of 9
    assert "“Due now”: current leads not contacted yet" in card.inner_text()
    assert page.locator("#sla-rules tbody tr td").first.inner_text() == "Inbound web forms, 30-minute SLA"
    never = page.locator("#coverage-table tr.never-fired")
    assert never.count() == 1 and never.first.is_visible()
    assert "Trade-show leads (DACH)" in never.first.inner_text() and "never fired" in never.first.inner_text()
    dev = page.locator("#rep-table tbody tr", has_text="Dev Patel")
    assert "away until" in dev.locator(".mark").inner_text()
    assert page.locator("#rep-table th[data-key=sla_met_rate]").is_visible()

    # Nothing scrolls sideways, and the per-rep table fits its box.
    assert page.evaluate("document.scrollingElement.scrollWidth <= window.innerWidth")
    assert page.evaluate("(() => { const b = document.querySelector('#rep-table').parentElement;"
                         " return b.scrollWidth <= b.clientWidth; })()")  # fmt: skip
    RESULTS.mkdir(exist_ok=True)
    page.screenshot(path=str(RESULTS / "reports-sla-1400.png"), full_page=True)
