"""The replay moves the state forward as live routing would: a rep whose pool was full takes leads
again once one of theirs closes or their day starts again, and a full pool's trace stays the same.

Plain data only (no database): the set-up and the start state are built by hand.
"""

import datetime as dt

from routing.engine import LeadFacts, RepState, RuleSpec
from routing.replay import Replay, ReplaySetup, ReplayStart

T0 = dt.datetime(2026, 10, 5, 9, 0, tzinfo=dt.UTC)  # a Monday


def _replay(*reps: RepState) -> Replay:
    setup = ReplaySetup(
        rules=[RuleSpec(id=1, name="Inbound", priority=10, team_id=1)],
        territories=[],
        reps={r.id: r for r in reps},
        existing_owner_first=False,
        rep_email={r.id: f"rep{r.id}@example.com" for r in reps},
        rule_name={1: "Inbound"},
    )
    return Replay(setup, ReplayStart(at=T0), until=T0 + dt.timedelta(days=3))


def _at(minutes: float) -> dt.datetime:
    return T0 + dt.timedelta(minutes=minutes)


def test_a_full_pool_takes_leads_again_once_a_lead_of_its_reps_closes():
    replay = _replay(RepState(id=1, team_id=1, capacity=1), RepState(id=2, team_id=1, capacity=1))
    first = replay.decide(LeadFacts(id=1), at=_at(0), closes_at=_at(30))
    second = replay.decide(LeadFacts(id=2), at=_at(10))
    assert (first.rep_id, second.rep_id) == (1, 2)
    full = [replay.decide(LeadFacts(id=n), at=_at(10 + n)) for n in (3, 4)]
    assert [d.outcome for d in full] == ["unroutable", "unroutable"]
    # The second time the pool is not scanned again, yet the trace says the same.
    assert full[0].reason["rules"] == full[1].reason["rules"]
    assert [s["reason"] for s in full[1].reason["rules"][0]["skipped"]] == ["at_capacity", "at_capacity"]
    # Lead 1 closed at 09:30: rep 1 has room again.
    assert replay.decide(LeadFacts(id=5), at=_at(31)).rep_id == 1
    assert replay.decide(LeadFacts(id=6), at=_at(32)).outcome == "unroutable"


def test_a_rep_at_daily_cap_takes_leads_again_on_their_next_local_day():
    replay = _replay(RepState(id=1, team_id=1, daily_cap=1, timezone="Europe/Berlin"))
    assert replay.decide(LeadFacts(id=1), at=_at(0)).rep_id == 1
    capped = replay.decide(LeadFacts(id=2), at=_at(60))
    assert capped.outcome == "unroutable"
    assert capped.reason["rules"][0]["skipped"][0]["reason"] == "daily_cap_reached"
    # 22:30 UTC is 00:30 in Berlin on the next day.
    assert replay.decide(LeadFacts(id=3), at=T0.replace(hour=22, minute=30)).rep_id == 1


def test_a_lead_given_by_hand_shows_in_the_next_trace_of_a_full_pool():
    replay = _replay(RepState(id=1, team_id=1, daily_cap=1, capacity=2))
    assert replay.decide(LeadFacts(id=1), at=_at(0)).rep_id == 1
    assert replay.decide(LeadFacts(id=2), at=_at(1)).reason["rules"][0]["skipped"][0]["reason"] == "daily_cap_reached"
    replay.given_by_hand(1, at=_at(2))  # a claim: now at capacity as well, which the trace names first
    assert replay.decide(LeadFacts(id=3), at=_at(3)).reason["rules"][0]["skipped"][0]["reason"] == "at_capacity"
