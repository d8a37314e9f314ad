"""Webhooks through a real HTTP receiver: the signed body, retries with one delivery id, a dead
receiver next to a live one, Slack text, channel filters, `create_webhook`."""

import datetime as dt
import hashlib
import hmac
import json

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from leadops.tests.factories import LeadFactory
from notifications.models import Channel, Delivery
from notifications.services import deliver
from notifications.services.deliver import MAX_ATTEMPTS, deliveries_send, deliveries_sweep
from notifications.tests.factories import ChannelFactory
from reps.tests.factories import RepFactory, TeamFactory
from routing.models import Assignment
from routing.reasons import reason_summary
from routing.services import leads_route
from routing.tests.factories import RuleFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def inbound():
    team = TeamFactory(name="Inbound")
    rep = RepFactory(team=team, name="Ana Ruiz", email="ana@example.com", notify_email=False)
    rule = RuleFactory(name="Inbound round robin", pool_team=team, sla_minutes=30)
    return team, rep, rule


def route_one(**facts):
    lead = LeadFactory(**facts)
    leads_route(lead_ids=[lead.id])
    return lead


def send_all(**kw):
    return deliveries_send(delivery_ids=list(Delivery.objects.values_list("id", flat=True)), **kw)


def test_a_json_webhook_gets_the_lead_as_the_api_shows_it_signed_over_the_raw_body(receiver, inbound, admin_user):
    _, rep, _ = inbound
    channel = ChannelFactory(url=f"{receiver.url}/hook", secret="whsec_known")
    lead = route_one(company="Acme GmbH", country="DE")
    delivery = Delivery.objects.get()
    assert (delivery.event, delivery.channel, delivery.status) == ("lead.assigned", channel, "pending")

    assert send_all().sent == 1
    (got,) = receiver.requests
    expected = "sha256=" + hmac.new(b"whsec_known", got.body, hashlib.sha256).hexdigest()
    assert got.headers["x-leadops-signature"] == expected
    assert got.headers["content-type"] == "application/json"
    assert got.headers["x-leadops-event"] == "lead.assigned"
    assert got.headers["x-leadops-delivery"] == str(delivery.id)
    body = json.loads(got.body)
    assert set(body) == {"id", "event", "at", "lead"} and body["id"] == str(delivery.id)
    api = APIClient()
    api.force_authenticate(admin_user)
    assert body["lead"] == api.get(f"/api/leads/{lead.id}/").json()
    assert body["lead"]["owner"]["email"] == rep.email
    assert body["lead"]["assignment"]["sla_due_at"] is not None
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_answer) == ("sent", 1, "HTTP 200 ok")


def test_a_receiver_answering_500_twice_then_200_gets_three_attempts_with_one_delivery_id(receiver, inbound):
    receiver.script["/flaky"] = [500, 500, 200]
    ChannelFactory(url=f"{receiver.url}/flaky")
    route_one()
    now = timezone.now()
    assert send_all(now=now).retrying == 1
    assert send_all(now=now + dt.timedelta(seconds=10)).claimed == 0  # not due yet: back-off
    assert send_all(now=now + dt.timedelta(seconds=31)).retrying == 1
    assert send_all(now=now + dt.timedelta(minutes=3)).sent == 1
    assert deliveries_sweep(now=now + dt.timedelta(hours=2)).claimed == 0  # sent: never again
    assert [r.status for r in receiver.requests] == [500, 500, 200]
    assert len({r.headers["x-leadops-delivery"] for r in receiver.requests}) == 1
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts) == ("sent", 3)


def test_the_back_off_spans_at_least_five_attempts_over_thirty_minutes():
    assert MAX_ATTEMPTS >= 5 and sum(deliver.BACKOFF_SECONDS[: MAX_ATTEMPTS - 1]) >= 30 * 60
    assert list(deliver.BACKOFF_SECONDS) == sorted(deliver.BACKOFF_SECONDS)


def test_a_receiver_that_never_answers_is_marked_failed_while_other_channels_deliver(receiver, inbound, monkeypatch):
    monkeypatch.setattr(deliver, "TIMEOUT_SECONDS", 0.3)
    monkeypatch.setattr(deliver, "_clients", {})
    receiver.hang_seconds = 1.0
    receiver.script["/dead"] = ["hang"]
    dead = ChannelFactory(name="Dead CRM", url=f"{receiver.url}/dead")
    live = ChannelFactory(name="Live CRM", url=f"{receiver.url}/live")
    for _ in range(3):
        route_one()
    now = timezone.now()
    first = send_all(now=now)
    assert first.sent == 3  # the live channel got all three in the same run
    assert len(receiver.at("/live")) == 3
    for minutes in (1, 3, 8, 18, 33, 60):
        send_all(now=now + dt.timedelta(minutes=minutes))
    dead_rows = Delivery.objects.filter(channel=dead)
    assert {(d.status, d.attempts) for d in dead_rows} == {("failed", MAX_ATTEMPTS)}
    assert any("No answer within" in d.last_answer for d in dead_rows)
    assert set(Delivery.objects.filter(channel=live).values_list("status", flat=True)) == {"sent"}
    deliver._clients.clear()


def test_a_slow_receiver_gets_several_deliveries_at_once_each_once(receiver, inbound):
    receiver.delay_seconds = 0.2
    ChannelFactory(url=f"{receiver.url}/slow")
    for _ in range(6):
        route_one()
    assert send_all().sent == 6
    assert receiver.most_in_flight > 1  # not one after the other
    ids = [r.headers["x-leadops-delivery"] for r in receiver.requests]
    assert sorted(ids) == sorted(str(i) for i in Delivery.objects.values_list("id", flat=True))


def test_a_redirect_is_not_followed_and_counts_as_a_failed_attempt(receiver, inbound):
    receiver.script["/moved"] = [302]
    ChannelFactory(url=f"{receiver.url}/moved")
    route_one()
    result = send_all()
    assert result.retrying == 1 and len(receiver.requests) == 1
    assert Delivery.objects.get().last_answer.startswith("HTTP 302")


def test_a_slack_channel_gets_who_why_the_due_time_and_a_link(receiver, inbound):
    ChannelFactory(url=f"{receiver.url}/slack", format=Channel.Format.SLACK)
    lead = route_one(company="Acme GmbH")
    send_all()
    text = json.loads(receiver.requests[0].body)["text"]
    assert "Ana Ruiz got a new lead: Acme GmbH" in text
    assert f"Why: {reason_summary(Assignment.objects.get(lead=lead).reason)}" in text
    assert "Inbound round robin" in text and "Ana Ruiz was next in the rotation" in text
    assert "Contact by" in text
    assert f"/admin/leadops/lead/{lead.id}/change/" in text


def test_a_channel_gets_only_its_events_and_its_teams_leads(inbound):
    team, _, _ = inbound
    other_team = TeamFactory(name="Outbound")
    everything = ChannelFactory(name="All")
    only_pooled = ChannelFactory(name="Pooled only", events=["lead.pooled"])
    mine = ChannelFactory(name="Inbound only", team=team)
    theirs = ChannelFactory(name="Outbound only", team=other_team)
    ChannelFactory(name="Switched off", active=False)
    route_one()
    assert set(Delivery.objects.values_list("channel__name", flat=True)) == {everything.name, mine.name}
    assert not Delivery.objects.filter(channel__in=[only_pooled, theirs]).exists()


def test_an_unroutable_lead_raises_its_alert_and_a_pooled_lead_its_event():
    ChannelFactory(name="Alerts")
    team = TeamFactory()
    RepFactory(team=team)
    RuleFactory(name="Pool", pool_team=team, strategy="pool", sla_minutes=10)
    pooled = route_one(country="DE")
    assert Delivery.objects.get(lead=pooled).event == "lead.pooled"
    assert Delivery.objects.get(lead=pooled).sla_due_at is not None
    team.reps.update(active=False)
    unroutable = route_one(country="DE")
    assert Delivery.objects.get(lead=unroutable).event == "lead.unroutable"


def test_routing_with_channels_and_email_costs_the_same_queries_whatever_the_batch_size():
    team = TeamFactory()
    RepFactory(team=team, capacity=100, daily_cap=100)
    RuleFactory(pool_team=team, sla_minutes=15)
    ChannelFactory(name="One")
    ChannelFactory(name="Two", format=Channel.Format.SLACK)
    leads_route(lead_ids=[lead.id for lead in LeadFactory.create_batch(3)])
    # 15: SQLite splits a bulk insert above 999 parameters (45 deliveries of 18 columns stay below)
    small, large = LeadFactory.create_batch(3), LeadFactory.create_batch(15)
    with CaptureQueriesContext(connection) as few:
        leads_route(lead_ids=[lead.id for lead in small])
    with CaptureQueriesContext(connection) as many:
        leads_route(lead_ids=[lead.id for lead in large])
    assert len(many) == len(few)
    assert Delivery.objects.filter(lead__in=large).count() == 15 * 3  # two channels and the rep's e-mail


def test_sending_many_deliveries_costs_the_same_queries_as_sending_few(receiver, inbound):
    ChannelFactory(url=f"{receiver.url}/hook")
    for _ in range(3):
        route_one()
    with CaptureQueriesContext(connection) as few:
        send_all()
    for _ in range(12):
        route_one()
    with CaptureQueriesContext(connection) as many:
        send_all()
    # answers are written as they come: one more statement when a slow machine splits the run
    assert len(many) <= len(few) + 2


def test_create_webhook_prints_the_secret_alone_on_its_last_line(capsys):
    team = TeamFactory(name="EMEA Enterprise")
    call_command(
        "create_webhook",
        "CRM",
        "https://crm.example.com/hook",
        "--events",
        "lead.assigned,lead.sla_breached",
        "--team",
        "EMEA Enterprise",
    )
    last = capsys.readouterr().out.strip().splitlines()[-1]
    channel = Channel.objects.get(name="CRM")
    assert last == channel.secret and last.startswith("whsec_")
    assert (channel.events, channel.team, channel.format) == (["lead.assigned", "lead.sla_breached"], team, "json")


@pytest.mark.parametrize(
    "args, field",
    [
        (["X", "ftp://example.com"], "url"),
        (["X", "https://example.com", "--events", "lead.sold"], "events"),
        (["X", "https://example.com", "--team", "Nobody"], "team"),
    ],
)
def test_create_webhook_refuses_bad_input_naming_the_field(args, field):
    with pytest.raises(CommandError, match=field):
        call_command("create_webhook", *args)


def test_deleting_a_lead_or_a_channel_leaves_no_delivery_pointing_at_nothing(inbound):
    # The outbox's references carry no database constraint (checked per row in the routing
    # transaction); Django's deletion still cascades. (A rep who owns leads cannot be deleted.)
    hooks, slack = ChannelFactory(name="CRM"), ChannelFactory(name="Slack", format="slack")
    kept, gone = route_one(), route_one()
    assert Delivery.objects.filter(lead=gone).count() == 2
    gone.delete()
    assert not Delivery.objects.filter(lead_id=gone.pk).exists()
    slack.delete()
    assert list(Delivery.objects.values_list("lead_id", "channel_id")) == [(kept.pk, hooks.pk)]
