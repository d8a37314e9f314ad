"""A rep works their queue in a real Chromium: log in, claim from the pool, mark it contacted.

Debian's /usr/bin/chromium through Playwright (the `chromium` fixture of conftest.py, which skips
when it is not installed). Screenshots at 1400 px and 375 px land in test-results/ (gitignored).
"""

import re
from pathlib import Path

import pytest
from django.contrib.auth.models import User

from leadops.models import Lead
from reps.tests.conftest import SERIAL
from reps.tests.factories import RepFactory, TeamFactory
from routing.models import Assignment
from routing.services import leads_route
from routing.tests.factories import RuleConditionFactory, RuleFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

RESULTS = Path(__file__).resolve().parents[2] / "test-results"
HAS_SLA = any(f.name == "sla_due_at" for f in Assignment._meta.get_fields())


@pytest.fixture
def demo_like_rep():
    """Like `seed_demo`: the login `rep` is Noah Fischer of Inbound SDR, whose pool holds leads with no company."""
    from leadops.tests.factories import LeadFactory

    team = TeamFactory(name="Inbound SDR")
    noah = RepFactory(name="Noah Fischer", team=team, capacity=80, timezone="Europe/Berlin")
    noah.user = User.objects.create_user("rep", password="leadops-rep-demo")
    noah.save()
    RepFactory(name="Mia Rossi", team=team)
    rule = RuleFactory(name="No company given", pool_team=team, strategy="pool", claim_limit=10)
    if HAS_SLA:
        rule.sla_minutes = 30
        rule.save()
    RuleConditionFactory(rule=rule, field="company", op="is_empty", value=None)
    names = [("Lena", "Vogel"), ("Tariq", "Haddad-Lindqvist"), ("Sipho", "Ndlovu")]
    leads = [
        LeadFactory(
            company="",
            first_name=first,
            last_name=last,
            email=f"{first.lower()}.{last.lower()}{next(SERIAL)}@mail.example.org",
            industry="",
            source="chat",
        )
        for first, last in names
    ]
    leads_route(lead_ids=[lead.id for lead in leads])
    return noah, leads


def watch_outside(page) -> list[str]:
    outside = []
    page.on(
        "request",
        lambda r: outside.append(r.url) if not re.match(r"https?://(localhost|127\.0\.0\.1)", r.url) else None,
    )
    return outside


def no_sideways_scroll(page) -> None:
    width = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert width[0] <= width[1], f"the page scrolls sideways: {width}"


def test_a_rep_claims_a_pooled_lead_marks_it_contacted_and_sees_it_move_to_my_leads(
    live_server, demo_like_rep, chromium
):
    noah, leads = demo_like_rep
    lena = leads[0]
    context = chromium.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    outside = watch_outside(page)

    page.goto(f"{live_server.url}/queue/")
    assert "/queue/login/" in page.url
    page.fill("#id_username", "rep")
    page.fill("#id_password", "leadops-rep-demo")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/queue/")
    assert page.locator("#my-leads").inner_text().count("No open leads") == 1
    assert page.locator("#pools .pooled").count() == 3

    page.click(f"#pooled-{lena.pk} button:has-text('Claim')")
    page.wait_for_url(re.compile(rf"/queue/#lead-{lena.pk}$"))
    assert page.locator(".messages").inner_text() == f"{lena} is yours now: it is at the top of your leads."
    assert page.locator(f"#my-leads #lead-{lena.pk}").is_visible()
    assert page.locator(f"#pooled-{lena.pk}").count() == 0
    assert page.locator("#pools .pooled").count() == 2
    card = page.locator(f"#lead-{lena.pk}")
    assert "Claimed by Noah Fischer from the pool of “No company given”" in card.inner_text()
    if HAS_SLA:
        assert card.locator(".sla.sla-running time.countdown").is_visible()

    card.locator("button:has-text('Contacted')").click()
    page.wait_for_url(re.compile(rf"/queue/#lead-{lena.pk}$"))
    assert page.locator(".messages").inner_text() == f"{lena} marked contacted."
    card = page.locator(f"#lead-{lena.pk}")
    sla = card.locator(".sla.sla-met")
    assert sla.is_visible()
    assert ("SLA met" if HAS_SLA else "Contacted") in sla.inner_text()
    assert card.locator("button:has-text('Contacted')").count() == 0  # done; the rest stay one click away
    assert card.locator("button:has-text('Converted')").is_visible()
    assert Lead.objects.get(pk=lena.pk).first_contacted_at is not None

    # "Next lead" takes the oldest one still waiting.
    page.click("#next-lead")
    page.wait_for_url(re.compile(rf"/queue/#lead-{leads[1].pk}$"))
    assert page.locator("#my-leads article.lead").count() == 2

    RESULTS.mkdir(exist_ok=True)
    no_sideways_scroll(page)
    page.screenshot(path=str(RESULTS / "queue-1400.png"), full_page=True)

    page.set_viewport_size({"width": 375, "height": 812})
    page.reload()
    no_sideways_scroll(page)
    page.locator(f"#lead-{leads[1].pk} details.misrouted summary").click()  # the note form opens in place
    no_sideways_scroll(page)
    page.screenshot(path=str(RESULTS / "queue-375.png"), full_page=True)
    assert outside == [], f"the page reached outside: {outside}"
    context.close()
