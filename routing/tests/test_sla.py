"""The SLA watch: exactly the overdue, uncontacted, current assignments breach, once; `reroute`
sends the lead to someone else; contacted in time, closed in time and ended before due never breach."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys

import pytest
from django.core.management import CommandError, call_command
from django.db.models import F
from django.utils import timezone

from leadops.models import Lead, LeadEvent
from leadops.services import lead_event_record
from leadops.tests.factories import LeadFactory
from notifications.models import Delivery
from notifications.tests.factories import ChannelFactory
from reps.tests.factories import RepFactory, TeamFactory
from routing.models import Assignment
from routing.services import lead_claim, leads_reassign, leads_route
from routing.services.sla import sla_watch
from routing.tests.factories import RuleFactory
from routing.tests.test_routing_concurrency import ROOT, subprocess_env

HOUR = dt.timedelta(hours=1)


def route(*leads):
    leads_route(lead_ids=[lead.id for lead in leads])


def an_hour_ago(*leads):
    """Move the leads' decisions an hour back, so events can fall before and after the due time."""
    Assignment.objects.filter(lead__in=leads).update(
        created_at=F("created_at") - HOUR, sla_due_at=F("sla_due_at") - HOUR
    )


def breached_leads():
    return set(Assignment.objects.filter(sla_breached_at__isnull=False).values_list("lead_id", flat=True))


@pytest.fixture
def sla_team():
    team = TeamFactory(name="Inbound")
    reps = [RepFactory(team=team, name=f"Rep {c}", notify_email=False) for c in "AB"]
    rule = RuleFactory(name="Inbound 30 min", pool_team=team, sla_minutes=30)
    return team, reps, rule


@pytest.mark.django_db
def test_the_watch_breaches_exactly_the_overdue_uncontacted_current_assignments_once(sla_team, admin_user):
    team, reps, _ = sla_team
    ignored, contacted_in_time, converted_in_time, contacted_late, reassigned = LeadFactory.create_batch(5)
    route(ignored, contacted_in_time, converted_in_time, contacted_late, reassigned)
    an_hour_ago(ignored, contacted_in_time, converted_in_time, contacted_late, reassigned)
    started = Assignment.objects.get(lead=ignored).created_at
    lead_event_record(lead_id=contacted_in_time.id, type="contacted", at=started + dt.timedelta(minutes=10))
    lead_event_record(lead_id=converted_in_time.id, type="converted", at=started + dt.timedelta(minutes=20))
    lead_event_record(lead_id=contacted_late.id, type="contacted", at=started + dt.timedelta(minutes=45))
    owner = Lead.objects.get(id=reassigned.id).owner_id
    leads_reassign(lead_ids=[reassigned.id], rep_id=next(r.id for r in reps if r.id != owner), user=admin_user)
    Assignment.objects.filter(lead=reassigned, ended_at__isnull=False).update(
        ended_at=started + dt.timedelta(minutes=5)
    )
    not_due_yet = LeadFactory()
    route(not_due_yet)

    first = sla_watch()
    assert (first.breached, first.met) == (2, 2)
    assert breached_leads() == {ignored.id, contacted_late.id}
    assert set(LeadEvent.objects.filter(type="sla_breached").values_list("lead_id", flat=True)) == breached_leads()
    second = sla_watch()
    assert (second.breached, second.met) == (0, 0)
    assert LeadEvent.objects.filter(type="sla_breached").count() == 2
    # each met assignment keeps its own time, though one pass settled both
    assert Assignment.objects.get(lead=contacted_in_time).sla_met_at == started + dt.timedelta(minutes=10)
    assert Assignment.objects.get(lead=converted_in_time).sla_met_at == started + dt.timedelta(minutes=20)


@pytest.mark.django_db
def test_a_breach_notifies_and_the_lead_keeps_its_owner_under_notify(sla_team):
    ChannelFactory(name="Alerts")
    lead = LeadFactory()
    route(lead)
    owner = Lead.objects.get(id=lead.id).owner_id
    assert sla_watch(at=timezone.now() + dt.timedelta(minutes=31)).breached == 1
    assert Delivery.objects.filter(lead=lead, event="lead.sla_breached").count() == 1
    assert Lead.objects.get(id=lead.id).owner_id == owner


@pytest.mark.django_db
def test_reroute_sends_the_lead_to_another_rep_and_never_back(sla_team):
    team, reps, rule = sla_team
    rule.sla_action = "reroute"
    rule.save()
    lead = LeadFactory()
    route(lead)
    first_owner = Lead.objects.get(id=lead.id).owner_id
    result = sla_watch(at=timezone.now() + dt.timedelta(minutes=31))
    assert (result.breached, result.rerouted) == (1, 1)
    assert Lead.objects.get(id=lead.id).status == "pending"
    breached = Assignment.objects.get(lead=lead, rep_id=first_owner)
    assert (breached.end_reason, breached.sla_breached_at is not None) == ("sla_breached", True)
    route(lead)
    second_owner = Lead.objects.get(id=lead.id).owner_id
    assert second_owner not in (None, first_owner)
    # The second rep breaches too: nobody else is left, so the lead waits rather than going back.
    sla_watch(at=timezone.now() + dt.timedelta(minutes=62))
    route(lead)
    assert Lead.objects.get(id=lead.id).owner_id is None


@pytest.mark.django_db
def test_a_pooled_lead_meets_its_sla_by_being_claimed():
    team = TeamFactory()
    rep = RepFactory(team=team)
    RuleFactory(name="Pool", pool_team=team, strategy="pool", sla_minutes=30)
    lead = LeadFactory()
    route(lead)
    pooled = Assignment.objects.get(lead=lead)
    assert pooled.outcome == "pooled" and pooled.sla_due_at is not None
    claim = lead_claim(lead_id=lead.id, rep_id=rep.id)
    assert claim.sla_due_at is not None
    lead_event_record(lead_id=lead.id, type="contacted")
    assert sla_watch(at=timezone.now() + dt.timedelta(minutes=31)).breached == 0


@pytest.mark.django_db
def test_the_api_shows_the_due_time_and_the_breach(sla_team, admin_client):
    lead = LeadFactory()
    route(lead)
    shown = admin_client.get(f"/api/leads/{lead.id}/").json()["assignment"]
    assert shown["sla_due_at"] is not None and shown["sla_breached_at"] is None
    sla_watch(at=timezone.now() + dt.timedelta(minutes=31))
    assert admin_client.get(f"/api/leads/{lead.id}/").json()["assignment"]["sla_breached_at"] is not None


@pytest.mark.django_db
def test_watch_sla_command_runs_as_of_the_given_time(sla_team, capsys):
    route(LeadFactory())
    call_command("watch_sla", "--at", (timezone.now() + dt.timedelta(minutes=5)).isoformat())
    assert capsys.readouterr().out.startswith("0 breached")
    call_command("watch_sla", "--at", (timezone.now() + dt.timedelta(minutes=31)).isoformat())
    assert capsys.readouterr().out.startswith("1 breached")
    with pytest.raises(CommandError, match="--at"):
        call_command("watch_sla", "--at", "yesterday")


@pytest.mark.django_db
def test_an_sla_breached_event_cannot_be_posted():
    from leadops.tests.conftest import client_for
    from leadops.tests.factories import IntegrationFactory

    integration = IntegrationFactory()
    api = client_for(integration)
    lead = LeadFactory(integration=integration)
    answer = api.post(f"/api/leads/{lead.id}/events/", {"type": "sla_breached"}, format="json")
    assert answer.status_code == 400 and "type" in answer.json()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_watch_passes_racing_breach_each_assignment_once():
    team = TeamFactory()
    RepFactory.create_batch(4, team=team, capacity=500, daily_cap=500, notify_email=False)
    RuleFactory(pool_team=team, sla_minutes=10)
    ChannelFactory(name="Alerts")
    leads = LeadFactory.create_batch(400)
    leads_route(lead_ids=[lead.id for lead in leads])
    at = (timezone.now() + dt.timedelta(minutes=11)).isoformat()
    passes = [
        subprocess.Popen(
            [sys.executable, "manage.py", "watch_sla", "--at", at],
            cwd=ROOT,
            env=subprocess_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=300) for p in passes]
    assert all(p.returncode == 0 for p in passes), outputs
    assert Assignment.objects.filter(sla_breached_at__isnull=False).count() == 400
    assert LeadEvent.objects.filter(type="sla_breached").count() == 400
    assert Delivery.objects.filter(event="lead.sla_breached").count() == 400
    breached = sum(int(out.split()[0]) for out, _ in outputs)
    assert breached == 400, outputs
