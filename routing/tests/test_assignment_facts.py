"""The report facts on Assignment (first contact, converted, misrouted, ended) are kept by the services
that end assignments and record events, and agree with what the events say (the migration's fill)."""

import datetime as dt

import pytest

from reports.tests.helpers import assign, at, convert, end, event
from reps.tests.factories import RepFactory
from routing.models import Assignment
from routing.services.facts import assignment_facts_fill

pytestmark = pytest.mark.django_db

FACTS = ("first_contacted_at", "converted_at", "misrouted_at", "ended_at", "end_reason")


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
    kept = facts()
    Assignment.objects.update(first_contacted_at=None, converted_at=None, misrouted_at=None)
    assert assignment_facts_fill(batch=3) > 0  # several id ranges
    assert facts() == kept
    assert sum(1 for f in kept.values() if f[0]) == 8  # 7 − Cem's dropped one + Cem's on Ben's lead + Ana's
    assert sum(1 for f in kept.values() if f[1]) == 2
    assert sum(1 for f in kept.values() if f[2]) == 1
