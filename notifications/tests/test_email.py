"""E-mail through Django's locmem backend: the rep on each lead, the rep and the manager on a breach."""

import datetime as dt

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.utils import timezone

from leadops.models import Lead
from leadops.tests.factories import LeadFactory
from notifications.models import Delivery
from notifications.services.deliver import deliveries_send
from reps.tests.factories import RepFactory, TeamFactory
from routing.models import Assignment
from routing.reasons import reason_text
from routing.services import leads_reassign, leads_route
from routing.services.sla import sla_watch
from routing.tests.factories import RuleFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def locmem(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.SITE_URL = "https://leadops.example.com"


@pytest.fixture
def ana():
    manager = User.objects.create_user("mia", email="mia@example.com")
    team = TeamFactory(name="Inbound", manager=manager)
    rep = RepFactory(team=team, name="Ana Ruiz", email="ana@example.com")
    RuleFactory(name="DACH airlines", pool_team=team, sla_minutes=30)
    return rep


def send_all(**kw):
    return deliveries_send(delivery_ids=list(Delivery.objects.values_list("id", flat=True)), **kw)


def test_the_rep_gets_an_email_for_a_new_lead_with_the_reason_in_words_and_a_link(ana):
    lead = LeadFactory(company="Lufthansa", first_name="Jo", last_name="Beck", industry="airline", country="DE")
    leads_route(lead_ids=[lead.id])
    assert send_all().sent == 1
    (message,) = mail.outbox
    assert message.to == ["ana@example.com"]
    assert message.subject == "New lead: Lufthansa (DACH airlines)"
    assert reason_text(Assignment.objects.get(lead=lead).reason) in message.body  # the admin's trace, in words
    assert "Ana Ruiz was next in the rotation" in message.body
    assert "Company: Lufthansa" in message.body and "Industry: airline" in message.body
    assert "Contact them by" in message.body
    assert f"https://leadops.example.com/admin/leadops/lead/{lead.id}/change/" in message.body


def test_a_lead_with_no_company_is_named_by_the_person_in_the_subject(ana):
    lead = LeadFactory(company="", first_name="Jo", last_name="Beck", email="jo@beck.example")
    leads_route(lead_ids=[lead.id])
    send_all()
    assert mail.outbox[0].subject == "New lead: Jo Beck (DACH airlines)"


def test_a_rep_with_notify_email_off_gets_no_email(ana):
    ana.notify_email = False
    ana.save()
    leads_route(lead_ids=[LeadFactory().id])
    assert not Delivery.objects.filter(email__gt="").exists()


def test_a_manual_reassignment_emails_the_new_owner(ana, admin_user):
    ben = RepFactory(team=ana.team, name="Ben Ode", email="ben@example.com")
    lead = LeadFactory(company="Condor")
    leads_route(lead_ids=[lead.id])
    first = Lead.objects.get(id=lead.id).owner
    second = ben if first == ana else ana
    leads_reassign(lead_ids=[lead.id], rep_id=second.id, user=admin_user)
    send_all()
    (by_hand,) = [m for m in mail.outbox if "by hand" in m.subject]
    assert by_hand.to == [second.email]
    assert by_hand.subject == "New lead: Condor (Reassigned by hand by admin)"


def test_on_a_breach_the_rep_and_the_team_manager_get_an_email(ana):
    lead = LeadFactory(company="Lufthansa")
    leads_route(lead_ids=[lead.id])
    send_all()
    mail.outbox.clear()
    later = timezone.now() + dt.timedelta(minutes=31)
    sla_watch(at=later)
    send_all(now=later)
    assert sorted(m.to[0] for m in mail.outbox) == ["ana@example.com", "mia@example.com"]
    assert {m.subject for m in mail.outbox} == {"SLA breached: Lufthansa (DACH airlines)"}
    assert "was not contacted in time" in mail.outbox[0].body


def test_a_mail_server_that_refuses_keeps_the_email_for_a_later_attempt(ana, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 1
    leads_route(lead_ids=[LeadFactory().id])
    assert send_all().retrying == 1
    delivery = Delivery.objects.get()
    assert delivery.status == "pending" and delivery.last_answer
