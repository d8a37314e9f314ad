"""The routing admin actions ops use on the lead and rep lists (called as the admin calls them)."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.contrib.messages import get_messages
from django.contrib.messages.storage.fallback import FallbackStorage
from django.contrib.sessions.backends.db import SessionStore

from leadops.models import Lead
from leadops.tests.factories import LeadFactory
from reps.models import Rep
from reps.tests.factories import RepFactory, TeamFactory
from routing import admin_actions
from routing.models import Assignment
from routing.services import leads_route
from routing.tests.factories import RuleConditionFactory, RuleFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def lead_admin():
    return admin.ModelAdmin(Lead, admin.site)


@pytest.fixture
def post(rf, admin_user):
    def make(data=None):
        request = rf.post("/admin/leadops/lead/", data or {})
        request.user = admin_user
        request.session = SessionStore()
        request._messages = FallbackStorage(request)
        return request

    return make


def said(request) -> list[str]:
    return [str(m) for m in get_messages(request)]


@pytest.fixture
def team():
    team = TeamFactory()
    reps = [RepFactory(team=team, name=name) for name in ("Ana", "Bo")]
    RuleFactory(pool_team=team)
    return reps


def test_route_now_routes_unroutable_leads_again_once_a_rule_covers_them(lead_admin, post, team):
    rule = RuleFactory(pool_team=team[0].team, priority=1)
    RuleConditionFactory(rule=rule, field="country", op="equals", value="FR")
    lead = LeadFactory(status="unroutable", country="FR")
    request = post()
    admin_actions.route_now(lead_admin, request, Lead.objects.filter(id=lead.id))
    lead.refresh_from_db()
    assert lead.status == "assigned"
    assert said(request) == ["Routed: 1 assigned, 0 pooled, 0 unroutable, 0 unchanged, 0 skipped."]


def test_reassign_asks_for_a_rep_then_records_a_manual_assignment(lead_admin, post, team, admin_user):
    lead = LeadFactory()
    leads_route(lead_ids=[lead.id])
    page = admin_actions.reassign_to_rep(lead_admin, post(), Lead.objects.filter(id=lead.id))
    page.render()
    assert b"Reassign leads" in page.content and b"Bo" in page.content
    request = post({"apply": "1", "rep": team[1].id})
    assert admin_actions.reassign_to_rep(lead_admin, request, Lead.objects.filter(id=lead.id)) is None
    latest = Assignment.objects.filter(lead=lead).order_by("-id").first()
    assert (latest.rep_id, latest.decided_by_user, latest.strategy) == (team[1].id, admin_user, "manual")
    assert said(request) == ["1 leads reassigned to Bo."]


def test_reassign_to_a_full_rep_is_refused_with_the_reason(lead_admin, post, team):
    Rep.objects.filter(id=team[1].id).update(capacity=0)
    lead = LeadFactory()
    request = post({"apply": "1", "rep": team[1].id})
    admin_actions.reassign_to_rep(lead_admin, request, Lead.objects.filter(id=lead.id))
    assert "no room" in said(request)[0]
    assert Lead.objects.get(id=lead.id).owner_id is None


def test_release_sends_owned_leads_back_and_leaves_the_others(
    lead_admin, post, team, django_capture_on_commit_callbacks
):
    owned, waiting = LeadFactory(), LeadFactory(status="unroutable")
    leads_route(lead_ids=[owned.id])
    request = post()
    with django_capture_on_commit_callbacks(execute=False):
        admin_actions.release_to_routing(lead_admin, request, Lead.objects.filter(id__in=[owned.id, waiting.id]))
    owned.refresh_from_db()
    assert (owned.status, owned.owner_id) == ("pending", None)
    assert said(request) == ["1 leads sent back to routing (1 without an owner or closed were left alone)."]


def test_claim_for_a_rep_takes_pooled_leads_and_reports_refusals(lead_admin, post):
    team = TeamFactory()
    ana = RepFactory(team=team, name="Ana")
    RuleFactory(pool_team=team, strategy="pool", claim_limit=1)
    leads = LeadFactory.create_batch(2)
    leads_route(lead_ids=[lead.id for lead in leads])
    request = post({"apply": "1", "rep": ana.id})
    admin_actions.claim_for_rep(lead_admin, request, Lead.objects.filter(id__in=[lead.id for lead in leads]))
    messages = said(request)
    assert messages[0] == "1 leads claimed for Ana."
    assert "as many unworked leads from this pool" in messages[1]


def test_deactivating_reps_from_the_rep_list_asks_first(post, team):
    leads = LeadFactory.create_batch(4)
    leads_route(lead_ids=[lead.id for lead in leads])
    rep_admin = admin.ModelAdmin(Rep, admin.site)
    response = admin_actions.deactivate_and_redistribute(rep_admin, post(), Rep.objects.filter(id=team[0].id))
    assert response.status_code == 302 and response["Location"].endswith(
        f"/admin/reps/rep/deactivate/?ids={team[0].id}"
    )
    assert Rep.objects.get(id=team[0].id).active
    assert Lead.objects.filter(owner=team[0]).count() == 2
