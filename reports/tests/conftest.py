"""Fixtures shared by the report tests."""

import datetime as dt

import pytest

from reports.tests.helpers import assign, at, convert, event
from reps.tests.factories import RepFactory
from routing.services.sla import sla_watch
from routing.tests.factories import RuleFactory


@pytest.fixture
def sla_march():
    """Rule "Inbound" has a 30-minute SLA, "Outbound" none. Ana's assignments:

    1. 2 Mar 10:00, contacted 10:10: met.
    2. 3 Mar 10:00, contacted 10:45: breached (late).
    3. 4 Mar 10:00, never contacted: breached.
    4. 5 Mar 10:00, converted 10:20: met (closed by the due time).
    5. 6 Mar 10:00, handed to Ben at 10:15: ended before due, no SLA outcome for Ana; Ben contacts
       at 10:20: met for Ben.
    6. 28 Feb 23:50, due 1 Mar 00:20, contacted 00:05: met, and counted in March (due in March).
    7. 31 Mar 23:50, due 1 Apr 00:20, never contacted: breached, counted in April, not in March.
    8. 7 Mar by Outbound (no SLA): counted nowhere.
    """
    inbound, outbound = RuleFactory(name="Inbound", sla_minutes=30), RuleFactory(name="Outbound")
    ana, ben = RepFactory(name="Ana"), RepFactory(name="Ben")
    first = assign(ana, at(2), rule=inbound)
    event(first, "contacted", at(2, 10, 10))
    late = assign(ana, at(3), rule=inbound)
    event(late, "contacted", at(3, 10, 45))
    assign(ana, at(4), rule=inbound)
    closed = assign(ana, at(5), rule=inbound)
    convert(closed, at(5, 10, 20))
    handed = assign(ana, at(6), rule=inbound)
    bens = assign(ben, at(6, 10, 15), lead=handed.lead, rule=inbound)
    event(bens, "contacted", at(6, 10, 20))
    early = assign(ana, dt.datetime(2026, 2, 28, 23, 50, tzinfo=dt.UTC), rule=inbound)
    event(early, "contacted", at(1, 0, 5))
    assign(ana, at(31, 23, 50), rule=inbound)
    assign(ana, at(7), rule=outbound)
    result = sla_watch(at=at(2, month=4))  # one pass once everything is due
    assert (result.met, result.breached) == (4, 3)
    return ana, ben
