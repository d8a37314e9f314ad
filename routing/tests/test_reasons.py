"""The reason trace in words: every reason the engine can give, read as ops read it.

Traces come from the real engine (routing.engine) on hand-built snapshots, so a change of the
engine's trace that the renderer does not follow shows up here. No database.
"""

from __future__ import annotations

import ast
import inspect
from datetime import UTC, datetime, time, timedelta

import pytest

from routing import engine as eng
from routing.engine import (
    Condition,
    LeadFacts,
    PoolCursor,
    RepState,
    RoutingEngine,
    RoutingSnapshot,
    RuleSetSettings,
    RuleSpec,
    TerritorySpec,
    WorkingHours,
    core,
)
from routing.reasons import (
    CAUSE_LABELS,
    OPERATOR_LABELS,
    REFUSAL_LABELS,
    RESULT_LABELS,
    STRATEGY_LABELS,
    condition_words,
    failed_condition_words,
    reason_html,
    reason_summary,
    reason_text,
    reroute_cause,
)

NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)  # a Monday


def decide(rules, reps, lead=None, **kw) -> dict:
    snap = RoutingSnapshot(now=NOW, rules=rules, reps={r.id: r for r in reps}, **kw)
    return RoutingEngine(snap).decide(lead or LeadFacts(id=1, country="DE", industry="retail")).reason


def rep(id, name, **kw) -> RepState:
    return RepState(id=id, name=name, team_id=1, **kw)


def test_every_engine_word_has_a_label():
    assert {eng.NO_ELIGIBLE_REP, eng.EMPTY_POOL, eng.ASSIGNED, eng.POOLED, eng.UNROUTABLE} <= set(RESULT_LABELS)
    assert set(eng.STRATEGIES) | {eng.EXISTING_OWNER} <= set(STRATEGY_LABELS)
    assert set(eng.OPERATORS) <= set(OPERATOR_LABELS)
    from routing.models import Assignment

    assert set(Assignment.EndReason.values) <= set(CAUSE_LABELS)
    # A word the core declares for itself (not in the vocabulary) must still be one the renderer says.
    tree = ast.parse(inspect.getsource(core))
    declared = {
        node.value.value
        for node in tree.body
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)
    }
    assert declared  # EXISTING_OWNER, NO_ELIGIBLE_REP, EMPTY_POOL
    assert declared <= set(REFUSAL_LABELS) | set(RESULT_LABELS) | set(STRATEGY_LABELS)


def _refusals_produced() -> set[str]:
    """Drive the engine into every way it passes a rep over; the codes it wrote in its traces."""
    trace = every_refusal_trace()
    produced = {skip["reason"] for entry in trace["rules"] for skip in entry.get("skipped", [])}
    produced |= {step["result"] for step in trace["existing_owner"]}
    claimer = rep(9, "Claimer")
    limited = RuleSpec(id=2, name="Pool", priority=2, team_id=1, strategy="pool", claim_limit=2)
    produced.add(eng.claim_refusal(claimer, rule=limited, open_claimed=2, now=NOW))
    return produced


def test_every_refusal_the_engine_can_produce_has_its_words_declared_with_the_codes():
    produced = _refusals_produced()
    # Each label is for a refusal the engine really gives, and each refusal it gives has a label.
    assert produced == set(eng.REFUSAL_LABELS) == set(eng.REFUSALS)
    assert REFUSAL_LABELS is eng.REFUSAL_LABELS  # the renderer reads the engine's declaration, no copy
    for code in produced:
        assert "_" not in REFUSAL_LABELS[code]


def test_round_robin_says_who_was_next_and_who_was_skipped():
    reps = [rep(1, "Ana Ruiz"), rep(2, "Bo Berg", open_leads=40, capacity=40), rep(3, "Cy Day", active=False)]
    trace = decide(
        [RuleSpec(id=1, name="DACH mid-market", priority=1, team_id=1)],
        reps,
        cursors={"rule:1": PoolCursor("rule:1", last_rep_id=3)},
    )
    assert reason_summary(trace) == "Round robin in “DACH mid-market”: Ana Ruiz was next in the rotation"
    text = reason_text(trace)
    assert "skipped Cy Day (inactive), Bo Berg (at capacity)" in text
    assert "_" not in text


@pytest.mark.parametrize(
    "strategy, why",
    [
        ("weighted", "was next in the weighted rotation"),
        ("load_balanced", "had the lowest load"),
        ("skill_score", "had the best skill match"),
        ("performance", "was next by conversion rate"),
        ("direct", "was the first named rep free to take it"),
    ],
)
def test_each_strategy_says_why_this_rep(strategy, why):
    trace = decide([RuleSpec(id=1, name="Main", priority=1, team_id=1, strategy=strategy)], [rep(1, "Ana Ruiz")])
    assert reason_summary(trace) == f"{STRATEGY_LABELS[strategy]} in “Main”: Ana Ruiz {why}"


def every_refusal_trace() -> dict:
    """One lead, one rule, a rep passed over for each reason the engine has (and one it takes)."""
    skill, hours = 5, WorkingHours(start=time(1, 0), end=time(2, 0))
    reps = [
        rep(1, "Off", time_off=((NOW - timedelta(days=1), NOW + timedelta(days=1)),)),
        rep(2, "Full", open_leads=3, capacity=3, skills={skill: 3}),
        rep(3, "Daily", assigned_today=5, daily_cap=5, skills={skill: 3}),
        rep(4, "Night", working_hours=hours, skills={skill: 3}),
        rep(5, "NoSkill"),
        rep(6, "Flagged", skills={skill: 3}),
        rep(7, "Paused", weight=0, skills={skill: 3}),
        rep(8, "Ana", skills={skill: 3}),
        rep(9, "Gone", active=False, skills={skill: 3}),
    ]
    rule = RuleSpec(
        id=1,
        name="Main",
        priority=1,
        team_id=1,
        strategy="weighted",
        required_skill_ids=frozenset({skill}),
        requires_working_hours=True,
    )
    return decide(
        [rule],
        reps,
        LeadFacts(id=1, email="x@acme.com", excluded_rep_ids=frozenset({6})),
        account_owners={"acme.com": 99},  # an owner routing does not know: passed over as inactive
        settings=RuleSetSettings(existing_owner_first=True),
    )


def test_every_refusal_reads_in_words():
    trace = every_refusal_trace()
    text = reason_text(trace)
    for words in (
        "Off (on time off)",
        "Night (outside working hours)",
        "NoSkill (missing a required skill)",
        "Paused (weight 0, paused from the rotation)",
        "Flagged (sent this lead back before)",
        "Full (at capacity)",
        "Daily (daily cap reached)",
    ):
        assert words in text
    assert reason_summary(trace).endswith("Ana was next in the weighted rotation")


def test_earlier_rules_are_folded_under_rules_tried_before():
    rules = [
        RuleSpec(id=1, name="Enterprise", priority=1, team_id=1, conditions=[Condition("company_size", "gte", 1000)]),
        RuleSpec(id=2, name="Airlines", priority=2, team_id=1, conditions=[Condition("industry", "equals", "airline")]),
        RuleSpec(id=3, name="Full team", priority=3, team_id=2),
        RuleSpec(id=4, name="Catch-all", priority=4, team_id=1),
    ]
    reps = [rep(1, "Ana"), RepState(id=2, name="Bo", team_id=2, open_leads=1, capacity=1)]
    trace = decide(rules, reps, LeadFacts(id=1, company_size=20, industry="retail"))
    html = reason_html(trace)
    assert "<summary>3 rules tried before</summary>" in html
    assert "“Enterprise”: not met — company size is at least 1000" in html
    assert "“Airlines”: not met — industry is airline" in html
    assert "“Full team”: no rep in the pool could take it; skipped Bo (at capacity)" in html
    assert reason_summary(trace) == "Round robin in “Catch-all”: Ana was next in the rotation"
    assert reason_text(trace).splitlines()[1] == "Rules tried before:"


def test_unroutable_empty_pool_and_held_read_in_words():
    trace = decide([RuleSpec(id=1, name="Nobody", priority=1, team_id=1)], [rep(1, "Gone", active=False)])
    assert reason_summary(trace) == "Unroutable: no rule found a rep who could take it"
    assert "“Nobody”: the pool has no active rep; skipped Gone (inactive)" in reason_text(trace)

    held = decide(
        [RuleSpec(id=1, name="Wait", priority=1, team_id=1, when_none_eligible="hold")],
        [rep(1, "Full", open_leads=1, capacity=1)],
    )
    assert reason_summary(held) == "Held in the pool of “Wait”: no rep in the pool could take it"
    assert "skipped Full (at capacity)" in reason_text(held)


def test_team_pool_and_claims_and_hand_moves_read_in_words():
    pooled = decide([RuleSpec(id=1, name="Inbound", priority=1, team_id=1, strategy="pool")], [rep(1, "Ana")])
    assert reason_summary(pooled) == "Team pool in “Inbound”: waits for a member to claim it"
    claim = {"outcome": "assigned", "claimed": True, "rule": "Inbound", "rep": "Ana", "by": "ana"}
    assert reason_summary(claim) == "Claimed by Ana from the pool of “Inbound”"
    manual = {"outcome": "assigned", "manual": True, "by": "ops", "from": "Bo", "rep": "Ana", "from_status": "assigned"}
    assert reason_text(manual) == "Reassigned by hand by ops; from Bo to Ana"


def test_existing_owner_and_matched_territory_read_in_words():
    trace = decide(
        [RuleSpec(id=1, name="Main", priority=1, team_id=1)],
        [rep(1, "Ana"), rep(2, "Bo")],
        LeadFacts(id=1, email="x@eu.acme.com"),
        account_owners={"acme.com": 2},
        settings=RuleSetSettings(existing_owner_first=True),
    )
    assert reason_summary(trace) == "Existing owner: Bo owns the account of this e-mail domain"

    territories = [
        TerritorySpec(id=1, name="EMEA", countries=frozenset({"DE"})),
        TerritorySpec(id=2, name="DACH", parent_id=1, countries=frozenset({"DE"})),
    ]
    reps = [
        RepState(id=1, name="Ana", territory_ids=frozenset({1})),
        RepState(id=2, name="Bo", territory_ids=frozenset({2}), active=False),
    ]
    widened = decide(
        [RuleSpec(id=1, name="Local", priority=1, territory_id="matched")],
        reps,
        LeadFacts(id=1, country="DE"),
        territories=territories,
    )
    assert reason_summary(widened) == "Round robin in “Local” (territory EMEA): Ana was next in the rotation"
    assert "widened from in DACH: skipped Bo (inactive)" in reason_text(widened)


def test_a_reroute_says_what_caused_it():
    trace = decide([RuleSpec(id=1, name="Main", priority=1, team_id=1)], [rep(1, "Ana")])
    assert reroute_cause("misrouted", rep="Bo") == "Bo flagged it misrouted"
    assert reroute_cause("deactivated", rep="Bo") == "Bo was deactivated"
    assert reroute_cause("away", rep="Bo") == "Bo is away"
    assert reroute_cause("released", rep="Bo", by="ops") == "Bo released it (by ops)"
    assert reroute_cause("reassigned", rep="Bo") == ""
    html = reason_html(trace, cause=reroute_cause("misrouted", rep="Bo"))
    assert "Routed again because Bo flagged it misrouted." in html
    assert reason_summary(trace, cause="Bo is away").startswith("Routed again because Bo is away. Round robin")


@pytest.mark.parametrize(
    "field, op, value, words",
    [
        ("company_size", "gte", 1000, "company size is at least 1000"),
        ("score", "between", [10, 50], "score is between 10 and 50"),
        ("country", "in", ["DE", "AT"], "country is one of DE, AT"),
        ("industry", "not_equals", "airline", "industry is not airline"),
        ("extra.plan", "is_empty", None, "plan (custom value) is empty"),
        ("country", "in_territory", "DACH", "in territory DACH"),
        ("email", "email_domain_in", ["acme.com"], "e-mail domain is one of acme.com"),
    ],
)
def test_conditions_read_in_words(field, op, value, words):
    assert condition_words(field, op, value) == words


def test_failed_conditions_from_the_engine_read_in_words():
    assert failed_condition_words("company_size gte 1000") == "company size is at least 1000"
    assert failed_condition_words("country in ['DE', 'AT']") == "country is one of DE, AT"
    assert failed_condition_words("in_territory DACH") == "in territory DACH"
    assert failed_condition_words("email_domain_in acme.com, b.io") == "e-mail domain is one of acme.com, b.io"
    assert failed_condition_words("phone is_not_empty") == "phone is not empty"


def test_odd_traces_never_break_the_page():
    assert reason_html(None) == "—" and reason_summary({}) == "—" and reason_text("x") == "—"
    assert "1 rule tried before" in reason_html({"outcome": "unroutable", "rules": [None]})
    assert reason_summary({"outcome": "unroutable", "rules": [], "version": 2}).startswith("Unroutable")
