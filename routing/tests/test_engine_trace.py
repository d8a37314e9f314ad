"""One reason-trace type (routing/engine/trace.py): the engine, hand reassignments, claims and the
test factory all write it, with its version; the renderer reads every one of them."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import get_type_hints

import pytest
from hypothesis import given
from hypothesis import settings as hsettings

from reps.tests.factories import RepFactory, TeamFactory
from routing.engine import (
    TRACE_VERSION,
    LeadFacts,
    OwnerStep,
    ReasonTrace,
    RepState,
    RoutingEngine,
    RoutingSnapshot,
    RuleSetSettings,
    RuleSpec,
    RuleStep,
    SkippedRep,
    TerritoryLevel,
    TerritorySpec,
)
from routing.reasons import reason_summary, reason_text
from routing.services import lead_claim, leads_reassign, leads_route
from routing.tests.factories import AssignmentFactory, RuleFactory
from routing.tests.test_engine_core import random_setups

NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)


def keys(typed) -> set[str]:
    return set(get_type_hints(typed))


def assert_is_a_trace(trace) -> None:
    """Every key is one the type declares, all the way down; the version is there; it is JSON."""
    assert trace["version"] == TRACE_VERSION and trace["outcome"] in ("assigned", "pooled", "unroutable")
    assert set(trace) <= keys(ReasonTrace)
    for step in trace.get("existing_owner", []):
        assert set(step) == keys(OwnerStep)
    for entry in trace.get("rules", []):
        assert set(entry) <= keys(RuleStep) and "rule" in entry
        for skip in entry.get("skipped", []):
            assert set(skip) == keys(SkippedRep)
        for level in entry.get("territories", []) + entry.get("widened_from", []):
            assert set(level) <= keys(TerritoryLevel)
            for skip in level["skipped"]:
                assert set(skip) == keys(SkippedRep)
    assert json.loads(json.dumps(trace)) == trace


@hsettings(max_examples=60, deadline=None)
@given(random_setups())
def test_every_engine_decision_carries_a_versioned_trace_of_the_declared_shape(setup):
    reps, rules, batch = setup
    snap = RoutingSnapshot(now=NOW, rules=rules, reps={r.id: r for r in reps})
    for decision in RoutingEngine(snap).decide_batch(batch):
        assert_is_a_trace(decision.reason)


def test_existing_owner_and_territory_traces_have_the_declared_shape():
    territories = [
        TerritorySpec(1, "DACH", countries=frozenset({"DE"})),
        TerritorySpec(2, "Bavaria", parent_id=1, countries=frozenset({"DE"}), regions=frozenset({"BY"})),
    ]
    reps = {
        1: RepState(id=1, name="Ana", territory_ids=frozenset({2}), capacity=0),
        2: RepState(id=2, name="Bo", territory_ids=frozenset({1})),
        3: RepState(id=3, name="Cy", time_off=((NOW - timedelta(hours=1), NOW + timedelta(hours=1)),)),
    }
    snap = RoutingSnapshot(
        now=NOW,
        rules=[RuleSpec(1, "Matched", 10, territory_id="matched"), RuleSpec(2, "Nobody", 5, territory_id="Bavaria")],
        territories=territories,
        reps=reps,
        account_owners={"acme.com": 3},
        settings=RuleSetSettings(existing_owner_first=True),
    )
    decision = RoutingEngine(snap).decide(LeadFacts(id=1, email="x@acme.com", country="DE", region="BY"))
    assert decision.rep_id == 2
    trace = decision.reason
    assert_is_a_trace(trace)
    assert trace["existing_owner"][0]["result"] == "on_time_off"
    assert trace["rules"][1]["widened_from"][0]["territory"] == "Bavaria"


@pytest.mark.django_db
def test_hand_reassignments_and_claims_write_the_same_versioned_trace(admin_user):
    team = TeamFactory(name="Inbound")
    ana, bo = RepFactory(team=team, name="Ana"), RepFactory(team=team, name="Bo")
    RuleFactory(name="Inbound pool", pool_team=team, strategy="pool")
    lead = AssignmentFactory(rep=None, rule=None, outcome="unroutable", lead__status="pending", lead__owner=None).lead
    leads_route(lead_ids=[lead.pk])
    claim = lead_claim(lead_id=lead.pk, rep_id=ana.pk)
    assert_is_a_trace(claim.reason)
    assert (claim.reason["claimed"], claim.reason["rep"], claim.reason["rule"]) == (True, "Ana", "Inbound pool")
    leads_reassign(lead_ids=[lead.pk], rep_id=bo.pk, user=admin_user)
    manual = lead.assignments.order_by("-id").first().reason
    assert_is_a_trace(manual)
    assert (manual["manual"], manual["from"], manual["rep"], manual["by"]) == (True, "Ana", "Bo", admin_user.username)
    assert "Bo" in reason_text(manual) and "Ana" in reason_text(claim.reason)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"rule": None},
        {"rule__strategy": "pool"},
        {"rule__strategy": "direct"},
        {"rep": None, "rule": None, "outcome": "unroutable", "lead__owner": None, "lead__status": "unroutable"},
        {"rep": None, "outcome": "pooled", "lead__owner": None, "lead__status": "pooled"},
    ],
    ids=["engine-rule", "existing-owner", "claim", "direct", "unroutable", "held"],
)
def test_the_assignment_factory_writes_traces_the_engine_makes(kwargs):
    assignment = AssignmentFactory(**kwargs)
    assert_is_a_trace(assignment.reason)
    assert assignment.reason["outcome"] == assignment.outcome
    if assignment.rep_id and not assignment.reason.get("claimed"):
        deciding = assignment.reason["rules"][-1] if assignment.rule else assignment.reason["existing_owner"][-1]
        assert deciding["rep_id"] == assignment.rep_id
    assert reason_summary(assignment.reason)
