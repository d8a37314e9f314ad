"""Ops see every delivery and every breach in the admin, and can send a delivery again."""

import datetime as dt

import pytest
from django.utils import timezone

from leadops.tests.factories import LeadFactory
from notifications.models import Channel, Delivery
from notifications.tests.factories import ChannelFactory
from reps.tests.factories import RepFactory, TeamFactory
from routing.services import leads_route
from routing.services.sla import sla_watch
from routing.tests.factories import RuleFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def routed():
    team = TeamFactory()
    RepFactory(team=team, notify_email=False)
    RuleFactory(name="Inbound", pool_team=team, sla_minutes=30)
    ChannelFactory(name="CRM hook")
    leads = LeadFactory.create_batch(3)
    leads_route(lead_ids=[lead.id for lead in leads])
    return leads


def test_the_delivery_list_shows_status_attempts_and_the_last_answer(admin_client, routed):
    Delivery.objects.filter(lead=routed[0]).update(status="failed", attempts=6, last_answer="HTTP 500 boom")
    page = admin_client.get("/admin/notifications/delivery/?status__exact=failed").content.decode()
    assert "HTTP 500 boom" in page and "CRM hook" in page and page.count("lead.assigned") >= 1


def test_the_delivery_list_costs_the_same_queries_for_many_rows(admin_client, routed, django_assert_max_num_queries):
    leads_route(lead_ids=[lead.id for lead in LeadFactory.create_batch(20)])
    with django_assert_max_num_queries(8):
        assert admin_client.get("/admin/notifications/delivery/").status_code == 200


def test_send_again_puts_a_failed_delivery_back_with_fresh_attempts_and_leaves_sent_ones(admin_client, routed):
    failed, sent, _ = Delivery.objects.order_by("created_at", "id")
    Delivery.objects.filter(id=failed.id).update(status="failed", attempts=6)
    Delivery.objects.filter(id=sent.id).update(status="sent", attempts=1)
    admin_client.post(
        "/admin/notifications/delivery/",
        {"action": "send_again", "_selected_action": [str(failed.id), str(sent.id)]},
    )
    failed.refresh_from_db()
    sent.refresh_from_db()
    assert (failed.status, failed.attempts) == ("pending", 0)
    assert (sent.status, sent.attempts) == ("sent", 1)


def test_a_channel_made_in_the_admin_shows_its_secret_once(admin_client):
    answer = admin_client.post(
        "/admin/notifications/channel/add/",
        {
            "name": "CRM",
            "format": "json",
            "url": "https://crm.example.com/hook",
            "events": ["lead.assigned"],
            "active": "on",
        },
        follow=True,
    )
    channel = Channel.objects.get(name="CRM")
    assert channel.secret in answer.content.decode()
    assert channel.secret not in admin_client.get(f"/admin/notifications/channel/{channel.pk}/change/").content.decode()


def test_the_lead_list_filters_breached_and_due_within_the_hour(admin_client, routed):
    def listed(query):
        page = admin_client.get(f"/admin/leadops/lead/?sla={query}").content.decode()
        return {lead.id for lead in routed if f"/admin/leadops/lead/{lead.id}/change/" in page}

    everyone = {lead.id for lead in routed}
    assert (listed("due_soon"), listed("breached")) == (everyone, set())
    sla_watch(at=timezone.now() + dt.timedelta(minutes=31))
    assert (listed("due_soon"), listed("breached")) == (set(), everyone)
    lead_page = admin_client.get(f"/admin/leadops/lead/{routed[0].id}/change/").content.decode()
    assert "SLA breached (due" in lead_page
