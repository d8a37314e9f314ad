"""Ops in a real Chromium: try a lead under a draft, load a change, see the version it made,
restore the one before behind the confirmation page; watch a big simulation run on a worker.

Debian's /usr/bin/chromium through Playwright; skipped by conftest.py when it is not installed.
Screenshots land in test-results/ (gitignored).
"""

import copy
import json
import re
from pathlib import Path

import django_rq
import pytest
from django.contrib.auth import get_user_model
from django.db import connections

from leadops.tests.test_intake_end_to_end import run_worker_burst
from routing.models import RoutingVersion
from routing.routing_file import routing_config_dump, routing_config_load
from routing.tests.test_routing_file import PRODUCT_EXAMPLE
from routing.tests.test_simulation import _one_rep_per_team, _route_some
from routing.versions import version_document

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHROMIUM = "/usr/bin/chromium"
RESULTS = Path(__file__).resolve().parents[2] / "test-results"


@pytest.fixture
def page():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        page = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
        yield page
        browser.close()
        connections.close_all()


def ops_logs_in(page, live_server) -> None:
    """A superuser "ops" made and logged in to the admin."""
    get_user_model().objects.create_superuser("ops", "ops@example.com", "pass-Word-123")
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", "ops")
    page.fill("#id_password", "pass-Word-123")
    page.click("input[type=submit]")


def test_ops_tries_a_lead_then_restores_the_version_before_a_change(live_server, page, tmp_path):
    routing_config_load(PRODUCT_EXAMPLE)
    before = RoutingVersion.objects.get()
    changed = copy.deepcopy(PRODUCT_EXAMPLE)
    changed["rules"][0]["priority"] = 5
    changed["reps"][0]["capacity"] = 30
    routing_config_load(changed, who="ops")
    RESULTS.mkdir(exist_ok=True)

    ops_logs_in(page, live_server)
    page.goto(f"{live_server.url}/admin/routing/rule/")
    page.click("text=Test a lead")
    page.fill("#id_country", "DE")
    page.fill("#id_industry", "airline")
    draft = tmp_path / "draft.json"
    draft.write_text(json.dumps(changed))
    page.select_option("#id_setup", "draft")
    page.set_input_files("#id_draft", str(draft))
    page.click("input[value='Test this lead']")
    result = page.inner_text("#trial-result")
    assert "DACH airlines" in result and "Ana Ruiz" in result
    page.screenshot(path=str(RESULTS / "test_a_lead.png"), full_page=True)

    # Simulate the same draft on the leads of the last 30 days: per rep, per rule, the changed leads.
    from leadops.models import Lead
    from routing.services import leads_route

    changed["rules"][0]["conditions"][0] = {"field": "country", "op": "in", "value": ["AT"]}
    draft.write_text(json.dumps(changed))
    leads = [
        Lead.objects.create(
            source="web", external_id=f"b{i}", email=f"p{i}@air{i}.example", country=c, industry="airline"
        )
        for i, c in enumerate(["DE", "AT", "DE", "CH"])
    ]
    leads_route(lead_ids=[lead.id for lead in leads])
    page.goto(f"{live_server.url}/admin/routing/rule/")
    page.click("text=Simulate a change")
    page.select_option("#id_setup", "draft")
    page.set_input_files("#id_draft", str(draft))
    page.click("input[value='Simulate']")
    page.wait_for_selector("#reps-chart .main-svg")
    text = page.inner_text("#simulation-result")
    assert "4 leads created" in text and "3 would get another first owner" in text
    page.screenshot(path=str(RESULTS / "simulation.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= 1400

    page.goto(f"{live_server.url}/admin/routing/routingversion/")
    assert "capacity 40 → 30" in page.inner_text("#result_list")
    page.click(f"text=v{before.number}")
    page.click("text=Restore this version…")
    assert 'rule "DACH airlines": priority 5 → 10' in page.inner_text("#content")
    page.screenshot(path=str(RESULTS / "restore_confirm.png"), full_page=True)
    page.click("input[type=submit][value^='Yes, restore']")
    assert re.search(rf"Restored v{before.number} as v\d+", page.inner_text(".messagelist"))
    assert page.evaluate("document.documentElement.scrollWidth") <= 1400
    page.screenshot(path=str(RESULTS / "restored_version.png"), full_page=True)
    assert routing_config_dump() == version_document(before.number)


@pytest.mark.postgres
@pytest.mark.redis
def test_ops_watches_a_big_simulation_run_on_a_worker_in_the_browser(live_server, page, settings):
    """Above the threshold the page queues a job, shows it waiting, and the result once a worker ran it."""
    django_rq.get_queue("default").empty()
    settings.SIMULATION_JOB_MIN_LEADS = 5
    routing_config_load(_one_rep_per_team())
    _route_some(["DE", "CH", "FR", "AT", "CH", "ES", "GB", "DE"])
    RESULTS.mkdir(exist_ok=True)

    ops_logs_in(page, live_server)
    page.goto(f"{live_server.url}/admin/routing/rule/")
    page.click("text=Simulate a change")
    assert "A period of 5 leads or more runs in the background" in page.inner_text("#content")
    page.select_option("#id_setup", "current")
    page.click("input[value='Simulate']")
    page.wait_for_selector("#simulation-progress")
    assert "Waiting for a worker" in page.inner_text("#simulation-progress")
    page.screenshot(path=str(RESULTS / "simulation_waiting.png"), full_page=True)

    worker = run_worker_burst("default")
    assert worker.returncode == 0, worker.stderr[-2000:]
    page.wait_for_selector("#reps-chart .main-svg", timeout=15_000)  # the page saw the job finish and reloaded
    text = page.inner_text("#simulation-result")
    assert "8 leads created" in text and "0 would get another first owner" in text and "Ana" in text.splitlines()
    assert page.evaluate("document.documentElement.scrollWidth") <= 1400
    page.screenshot(path=str(RESULTS / "simulation_background_result.png"), full_page=True)
    page.reload()
    assert "Ana" in page.inner_text("#simulation-result").splitlines()
