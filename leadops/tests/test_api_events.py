"""POST /api/leads/{id}/events/: outcome events update the lead and can send it back to routing."""

from datetime import timedelta

import pytest
from django.utils import timezone

from leadops.models import Lead, LeadEvent
from leadops.tests.factories import LeadFactory
from reps.tests.factories import RepFactory
from routing.models import Assignment
from routing.tests.factories import AssignmentFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def owned_lead(integration):
    rep = RepFactory()
    lead = LeadFactory(integration=integration, status="assigned", owner=rep, assigned_at=timezone.now())
    AssignmentFactory(lead=lead, rep=rep)
    return lead


def post_event(api, lead, body):
    return api.post(f"/api/leads/{lead.pk}/events/", body, format="json")


def test_contacted_answers_201_and_sets_first_contacted_at_only_once(api, owned_lead):
    first_at = timezone.now() - timedelta(minutes=30)
    response = post_event(
        api, owned_lead, {"type": "contacted", "at": first_at.isoformat(), "note": "left a voicemail"}
    )
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"id", "lead", "type", "at", "note", "rep"}
    assert body["rep"] == owned_lead.owner_id and body["lead"] == owned_lead.pk
    assert post_event(api, owned_lead, {"type": "contacted"}).status_code == 201
    owned_lead.refresh_from_db()
    assert owned_lead.first_contacted_at == first_at
    assert owned_lead.events.count() == 2


@pytest.mark.parametrize("kind", ["converted", "lost"])
def test_converted_and_lost_close_the_lead(api, owned_lead, kind):
    assert post_event(api, owned_lead, {"type": kind}).status_code == 201
    owned_lead.refresh_from_db()
    assert owned_lead.status == kind and owned_lead.closed_at is not None
    assert owned_lead.owner_id is not None and not owned_lead.is_open
    again = post_event(api, owned_lead, {"type": "lost"})
    assert again.status_code == 409 and "type" in again.json()


@pytest.mark.parametrize("kind", ["misrouted", "released"])
def test_misrouted_and_released_send_the_lead_back_to_routing_without_that_rep(api, owned_lead, kind, routing_calls):
    rep_id = owned_lead.owner_id
    assert post_event(api, owned_lead, {"type": kind}).status_code == 201
    owned_lead.refresh_from_db()
    assert (owned_lead.status, owned_lead.owner_id) == ("pending", None)
    event = LeadEvent.objects.get(lead=owned_lead)
    assert (event.type, event.rep_id) == (kind, rep_id)
    assignment = Assignment.objects.get(lead=owned_lead)
    assert assignment.ended_at is not None and assignment.end_reason == kind
    assert routing_calls == [[owned_lead.pk]]


@pytest.mark.parametrize("kind", ["contacted", "misrouted", "released"])
def test_events_that_need_an_owner_get_400_on_a_lead_without_one(api, integration, kind):
    lead = LeadFactory(integration=integration, status="pending")
    response = post_event(api, lead, {"type": kind})
    assert response.status_code == 400 and "no owner" in response.json()["type"][0]
    assert not LeadEvent.objects.exists()


def test_lost_is_allowed_on_a_lead_nobody_owns(api, integration):
    lead = LeadFactory(integration=integration, status="unroutable")
    assert post_event(api, lead, {"type": "lost"}).status_code == 201
    assert Lead.objects.get(pk=lead.pk).status == "lost"


def test_bad_events_get_400_naming_the_field(api, owned_lead):
    future = (timezone.now() + timedelta(hours=1)).isoformat()
    assert set(post_event(api, owned_lead, {"type": "called"}).json()) == {"type"}
    assert set(post_event(api, owned_lead, {"type": "contacted", "at": future}).json()) == {"at"}
    assert set(post_event(api, owned_lead, {"type": "contacted", "at": "tuesday"}).json()) == {"at"}
    assert set(post_event(api, owned_lead, {"type": "contacted", "mood": "good"}).json()) == {"mood"}
    assert set(post_event(api, owned_lead, {}).json()) == {"type"}
    assert post_event(api, owned_lead, ["contacted"]).status_code == 400
    assert not LeadEvent.objects.exists()


def test_a_little_clock_skew_is_allowed(api, owned_lead):
    soon = (timezone.now() + timedelta(minutes=2)).isoformat()
    assert post_event(api, owned_lead, {"type": "contacted", "at": soon}).status_code == 201
