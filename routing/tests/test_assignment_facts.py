"""The report facts on Assignment (first contact, converted, misrouted, ended, reassigned) are kept by the
services that end assignments, record events and write assignments, and agree with what the events and
the later assignments say (the migrations' fills)."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from leadops.models import Lead
from leadops.services.events import lead_event_record
from leadops.tests.factories import LeadFactory
from reports.tests.helpers import assign, at, convert, end, event
from reps.tests.factories import RepFactory, TeamFactory
from routing.models import Assignment
from routing.services import lead_claim, leads_reassign, leads_release, leads_route
from routing.services.facts import (
    assignment_facts_fill,
    assignment_first_decision_fill,
    assignment_reassigned_fill,
)
from routing.tests.factories import RuleFactory

pytestmark = pytest.mark.django_db

FACTS = (
    *("first_contacted_at", "converted_at", "misrouted_at", "ended_at", "end_reason", "reassigned_at"),
    "first_decision",
)


def facts() -> dict[int, tuple]:
    return {row[0]: row[1:] for row in Assignment.objects.order_by("id").values_list("id", *FACTS)}


def test_a_contact_is_kept_on_the_assignment_it_falls_in_and_only_the_first_one():
    ana = RepFactory(name="Ana")
    a = assign(ana, at(5))
    event(a, "contacted", at(5, 9))  # dated before the assignment: not this assignment's
    event(a, "contacted", at(5, 11))
    event(a, "contacted", at(5, 10, 30))  # recorded later, happened earlier: the first
    a.refresh_from_db()
    assert a.first_contacted_at == at(5, 10, 30)


def test_an_end_dated_before_a_contact_drops_the_contact_from_that_assignment():
    ana, ben = RepFactory(name="Ana"), RepFactory(name="Ben")
    a = assign(ana, at(5))
    event(a, "contacted", at(5, 11))
    end(a, at(5, 10, 45), "reassigned")  # ops say they moved it at 10:45
    assert (a.first_contacted_at, a.ended_at) == (None, at(5, 10, 45))
    assign(ben, at(5, 10, 45), lead=a.lead)


def test_a_misrouted_flag_ends_the_assignment_and_is_kept_on_it():
    ana = RepFactory(name="Ana")
    a = assign(ana, at(5))
    event(a, "misrouted", at(5, 12))
    a.refresh_from_db()
    assert (a.misrouted_at, a.ended_at, a.end_reason) == (at(5, 12), at(5, 12), "misrouted")
    a.lead.refresh_from_db()
    assert (a.lead.status, a.lead.owner_id) == ("pending", None)


def test_a_conversion_is_credited_on_every_assignment_of_the_lead_to_the_rep_who_converted_it():
    ana, ben = RepFactory(name="Ana"), RepFactory(name="Ben")
    first = assign(ana, at(2))
    to_ben = assign(ben, at(3), lead=first.lead)
    back = assign(ana, at(4), lead=first.lead)
    convert(back, at(6))
    got = facts()
    assert [got[a.pk][1] for a in (first, to_ben, back)] == [at(6), None, at(6)]


def test_the_facts_kept_by_the_services_are_the_facts_the_events_give():
    """The services' incremental upkeep against the migration's fill from the events, on a mixed history."""
    ana, ben, cem = RepFactory(name="Ana"), RepFactory(name="Ben"), RepFactory(name="Cem")
    leads = [assign(rep, at(2 + i)) for i, rep in enumerate([ana, ben, cem, ana, ben, cem, ana])]
    for i, a in enumerate(leads):
        event(a, "contacted", a.created_at + dt.timedelta(minutes=5 + i))
    convert(leads[0], at(20))
    event(leads[1], "misrouted", at(3, 12))
    assign(cem, at(3, 13), lead=leads[1].lead)
    event(leads[1], "contacted", at(3, 14))  # Cem's
    end(leads[2], at(4, 10, 5), "reassigned")  # before Cem's contact at 10:07: dropped
    assign(ana, at(4, 10, 5), lead=leads[2].lead, decided_by="user")
    event(leads[2], "contacted", at(4, 10, 30))
    convert(leads[2], at(21))
    event(leads[3], "released", at(5, 15))
    assign(ben, at(5, 16), lead=leads[3].lead)
    assign(cem, at(7), lead=leads[4].lead, decided_by="user")  # Ben's, a day later: moved
    assign(cem, at(30), lead=leads[5].lead, decided_by="user")  # to Cem again: no move
    assign(ben, at(30), lead=leads[6].lead, decided_by="user")  # Ana's, 22 days later: it stuck
    kept = facts()
    assert sum(1 for f in kept.values() if f[5]) == 4  # Ben's misrouted one, Cem's, Ana's released one, Ben's
    assert sum(1 for f in kept.values() if f[6]) == 7  # one first decision per lead
    Assignment.objects.update(first_contacted_at=None, converted_at=None, misrouted_at=None, reassigned_at=None)
    Assignment.objects.filter(id__in=list(kept)[::2]).update(first_decision=False)
    Assignment.objects.filter(id__in=list(kept)[1::2]).update(first_decision=True)
    assert assignment_facts_fill(batch=3) > 0  # several id ranges
    assert assignment_reassigned_fill(batch=3) > 0
    assert assignment_first_decision_fill(batch=3) > 0
    assert facts() == kept
    assert sum(1 for f in kept.values() if f[0]) == 8  # 7 − Cem's dropped one + Cem's on Ben's lead + Ana's
    assert sum(1 for f in kept.values() if f[1]) == 2
    assert sum(1 for f in kept.values() if f[2]) == 1


@pytest.fixture
def two_reps():
    team = TeamFactory(name="Inbound")
    reps = [RepFactory(team=team, name=name, capacity=10, daily_cap=10) for name in ("Ana", "Ben")]
    RuleFactory(name="Inbound round robin", pool_team=team)
    return reps


def reassigned_at(lead_id: int) -> list:
    return list(Assignment.objects.filter(lead_id=lead_id).order_by("id").values_list("reassigned_at", flat=True))


def test_a_reassignment_stamps_the_move_on_the_assignments_it_replaces_once(two_reps, admin_user):
    ana, ben = two_reps
    lead = LeadFactory()
    leads_route(lead_ids=[lead.id])
    first = Assignment.objects.get(lead=lead)
    other = ben if first.rep_id == ana.id else ana
    leads_reassign(lead_ids=[lead.id], rep_id=other.id, user=admin_user)
    second = Assignment.objects.filter(lead=lead).order_by("id").last()
    leads_reassign(lead_ids=[lead.id], rep_id=first.rep_id, user=admin_user)  # and back
    third = Assignment.objects.filter(lead=lead).order_by("id").last()
    # The first went to another rep at once (going back to its own rep changes nothing); the second too.
    assert reassigned_at(lead.id) == [second.created_at, third.created_at, None]


def test_a_lead_moved_after_7_days_stuck_and_an_sla_reroute_is_no_move(two_reps, admin_user):
    ana, ben = two_reps
    now = timezone.now()
    stuck = assign(ana, now - dt.timedelta(days=7, minutes=1))
    recent = assign(ana, now - dt.timedelta(days=6, hours=23))
    breached = assign(ana, now - dt.timedelta(hours=1))
    end(breached, now - dt.timedelta(minutes=30), "sla_breached")  # the SLA watch sent it back to routing
    Lead.objects.filter(id=breached.lead_id).update(status="pending", owner=None)
    leads_reassign(lead_ids=[stuck.lead_id, recent.lead_id, breached.lead_id], rep_id=ben.id, user=admin_user)
    assert [reassigned_at(a.lead_id)[0] is not None for a in (stuck, recent, breached)] == [False, True, False]


@pytest.mark.parametrize("leads", [1, 3])  # on Postgres a batch of several takes the one-statement path
def test_leads_routed_again_after_a_misrouted_flag_stamp_the_move(two_reps, leads, django_capture_on_commit_callbacks):
    batch = LeadFactory.create_batch(leads)
    leads_route(lead_ids=[lead.id for lead in batch])
    for lead in batch:
        with django_capture_on_commit_callbacks(execute=False):  # routed again below, all in one batch
            lead_event_record(lead_id=lead.id, type="misrouted")
    leads_route(lead_ids=[lead.id for lead in batch])
    for lead in batch:
        first, second = Assignment.objects.filter(lead=lead).order_by("id")
        assert second.rep_id != first.rep_id  # the engine leaves out the rep who flagged it
        assert (first.misrouted_at is not None, first.reassigned_at) == (True, second.created_at)
        assert (first.first_decision, second.first_decision) == (True, False)  # the lead's first decision


def test_a_claim_from_a_pool_stamps_the_move_on_the_earlier_assignment(admin_user, django_capture_on_commit_callbacks):
    team = TeamFactory()
    ana, ben = RepFactory(team=team, name="Ana"), RepFactory(team=team, name="Ben")
    RuleFactory(pool_team=team, strategy="pool")
    lead = LeadFactory()
    assign(ana, timezone.now() - dt.timedelta(days=2), lead=lead)
    with django_capture_on_commit_callbacks(execute=False):
        leads_release(lead_ids=[lead.id], user=admin_user)  # Ana gives it back: to the pool
    assert leads_route(lead_ids=[lead.id]).pooled == 1
    claim = lead_claim(lead_id=lead.id, rep_id=ben.id)
    pooled = Assignment.objects.get(lead=lead, outcome="pooled")
    assert reassigned_at(lead.id) == [claim.created_at, None, None]  # Ana's; a pooling belongs to no rep
    assert Assignment.objects.filter(lead=lead).order_by("id")[1].pk == pooled.pk


def test_a_lead_reassigned_by_hand_before_any_routing_has_that_as_its_first_decision(two_reps, admin_user):
    ana, ben = two_reps
    lead = LeadFactory()
    leads_reassign(lead_ids=[lead.id], rep_id=ana.id, user=admin_user)
    leads_reassign(lead_ids=[lead.id], rep_id=ben.id, user=admin_user)
    firsts = list(Assignment.objects.filter(lead=lead).order_by("id").values_list("first_decision", flat=True))
    assert firsts == [True, False]


@pytest.mark.parametrize("leads", [1, 3])  # on Postgres a batch of several takes the COPY path
def test_every_decision_keeps_when_its_lead_came_in(admin_user, leads):
    team = TeamFactory()
    ana, ben = RepFactory(team=team, name="Ana"), RepFactory(team=team, name="Ben")
    RuleFactory(pool_team=team, strategy="pool")
    came_in = timezone.now() - dt.timedelta(days=3)
    batch = [LeadFactory(created_at=came_in - dt.timedelta(hours=i)) for i in range(leads)]
    ids = [lead.id for lead in batch]
    assert leads_route(lead_ids=ids).pooled == leads  # the engine's decision
    lead_claim(lead_id=ids[0], rep_id=ana.id)  # a claim
    leads_reassign(lead_ids=ids[:1], rep_id=ben.id, user=admin_user)  # a reassignment by hand
    came = {lead.id: lead.created_at for lead in batch}
    rows = list(Assignment.objects.filter(lead_id__in=ids).values_list("lead_id", "lead_created_at"))
    assert len(rows) == leads + 2
    assert [created for _, created in rows] == [came[lead_id] for lead_id, _ in rows]


def test_the_fills_run_with_the_query_log_on_as_make_demo_does():
    """`make demo` runs with DEBUG on, where Django logs each query with its parameters quoted."""
    ana, ben = RepFactory(name="Ana"), RepFactory(name="Ben")
    moved = assign(ana, at(2))
    assign(ben, at(3), lead=moved.lead)
    Assignment.objects.update(reassigned_at=None)
    with CaptureQueriesContext(connection):  # the debug cursor DEBUG=True gives
        assert assignment_reassigned_fill() == 1
        assignment_facts_fill()  # what it writes is checked above; here, that it runs with the log on
        assert assignment_first_decision_fill() == 0
    assert reassigned_at(moved.lead_id) == [at(3), None]
