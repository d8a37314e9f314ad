"""PRODUCT.md's precise readings, each as a test on the pure core; and issue 16's territory index bug.

No database: snapshots are built by hand. The same minimal cases run end to end through the
API in test_engine_end_to_end.py.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from routing.engine import (
    ASSIGNED,
    POOLED,
    UNROUTABLE,
    Condition,
    LeadFacts,
    RepState,
    RoutingEngine,
    RoutingSnapshot,
    RuleSpec,
    TerritorySpec,
    claim_refusal,
)

NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)  # a Monday, 15:00 UTC
AWAY = ((NOW - timedelta(days=1), NOW + timedelta(days=1)),)


def rule(id, **kw) -> RuleSpec:
    return RuleSpec(id=id, name=kw.pop("name", f"Rule {id}"), priority=kw.pop("priority", id * 10), **kw)


def decide(rules, reps, territories=(), **facts):
    snap = RoutingSnapshot(now=NOW, rules=list(rules), reps={r.id: r for r in reps}, territories=list(territories))
    return RoutingEngine(snap).decide(LeadFacts(id=1, **facts))


# ------------------------------------------------------------------ in_territory (issue 16)
SCOTLAND = TerritorySpec(1, "Scotland", countries=frozenset({"GB"}), regions=frozenset({"SCT"}))
MUNICH = TerritorySpec(2, "Munich", countries=frozenset({"DE"}), postal_prefixes=("80",))
ONE_REP = [RepState(id=1, name="Ana")]


def test_a_gb_lead_in_england_is_not_in_a_scotland_territory_when_in_territory_is_the_only_condition():
    rules = [rule(1, rep_ids=[1], conditions=[Condition("country", "in_territory", "Scotland")])]
    england = decide(rules, ONE_REP, [SCOTLAND], country="GB", region="ENG")
    assert (england.outcome, england.rep_id) == (UNROUTABLE, None)
    assert england.reason["rules"] == [{"rule": "Rule 1", "failed": "in_territory Scotland"}]
    assert decide(rules, ONE_REP, [SCOTLAND], country="GB", region="SCT").rep_id == 1


def test_a_lead_outside_a_territorys_postal_prefixes_is_not_in_it():
    rules = [rule(1, rep_ids=[1], conditions=[Condition("country", "in_territory", "Munich")])]
    assert decide(rules, ONE_REP, [MUNICH], country="DE", postal_code="10115").outcome == UNROUTABLE
    assert decide(rules, ONE_REP, [MUNICH], country="DE", postal_code="80331").rep_id == 1


def test_in_territory_beside_other_conditions_judges_every_criterion():
    for other in (Condition("industry", "equals", "airline"), Condition("country", "equals", "GB")):
        for conditions in (
            [other, Condition("country", "in_territory", "Scotland")],
            [Condition("country", "in_territory", "Scotland"), other],
        ):
            rules = [rule(1, rep_ids=[1], conditions=conditions)]
            facts = {"country": "GB", "industry": "airline"}
            assert decide(rules, ONE_REP, [SCOTLAND], region="ENG", **facts).outcome == UNROUTABLE
            assert decide(rules, ONE_REP, [SCOTLAND], region="SCT", **facts).rep_id == 1


def test_in_territory_holds_through_the_territory_inside_it_that_the_lead_falls_in():
    uk = TerritorySpec(10, "UK")  # no countries of its own
    scotland = TerritorySpec(11, "Scotland", parent_id=10, countries=frozenset({"GB"}), regions=frozenset({"SCT"}))
    edinburgh = TerritorySpec(12, "Edinburgh", parent_id=11, countries=frozenset({"GB"}), postal_prefixes=("EH",))
    territories = [uk, scotland, edinburgh]
    rules = [rule(1, rep_ids=[1], conditions=[Condition("country", "in_territory", "UK")])]
    assert decide(rules, ONE_REP, territories, country="GB", region="SCT").rep_id == 1
    assert decide(rules, ONE_REP, territories, country="GB", region="ENG", postal_code="EH1 1YZ").rep_id == 1
    assert decide(rules, ONE_REP, territories, country="GB", region="ENG", postal_code="M1 1AA").outcome == UNROUTABLE
    in_scotland = [rule(1, rep_ids=[1], conditions=[Condition("country", "in_territory", "Scotland")])]
    assert decide(in_scotland, ONE_REP, territories, country="GB", region="wal").outcome == UNROUTABLE


TERRITORIES = [
    TerritorySpec(1, "EMEA"),
    TerritorySpec(2, "DACH", parent_id=1, countries=frozenset({"DE", "AT", "CH"})),
    TerritorySpec(3, "Bavaria", parent_id=2, countries=frozenset({"DE"}), regions=frozenset({"BY"})),
    TerritorySpec(4, "Munich", parent_id=3, countries=frozenset({"DE"}), postal_prefixes=("80", "81")),
    TerritorySpec(5, "UK", parent_id=1, countries=frozenset({"GB"})),
    TerritorySpec(6, "Scotland", parent_id=5, countries=frozenset({"GB"}), regions=frozenset({"SCT"})),
]
NAMES = [t.name for t in TERRITORIES]
FIELDS = {
    "country": ["DE", "AT", "GB", "FR", "de "],
    "region": ["BY", "BE", "SCT", "ENG", ""],
    "industry": ["airline", "rail", "Airline", ""],
    "postal_code": ["80331", "10115", "EH1", ""],
}


@st.composite
def conditions(draw):
    kind = draw(st.sampled_from(["territory", "equals", "in", "not_equals", "starts_with"]))
    if kind == "territory":
        return Condition("country", "in_territory", draw(st.sampled_from(NAMES)))
    field = draw(st.sampled_from(sorted(FIELDS)))
    values = [v for v in FIELDS[field] if v.strip()]
    if kind == "in":
        return Condition(field, "in", draw(st.lists(st.sampled_from(values), min_size=1, max_size=3)))
    return Condition(field, kind, draw(st.sampled_from(values)))


@st.composite
def rule_sets(draw):
    reps = [RepState(id=i, capacity=draw(st.integers(0, 4)), territory_ids=frozenset({i % 6 + 1})) for i in range(1, 6)]
    rules = [
        rule(
            r,
            rep_ids=draw(st.lists(st.integers(1, 5), min_size=1, max_size=3, unique=True)),
            territory_id=draw(st.sampled_from([None, "matched", "DACH", "UK"])),
            strategy=draw(st.sampled_from(["round_robin", "load_balanced", "direct", "pool"])),
            conditions=draw(st.lists(conditions(), max_size=4)),
        )
        for r in range(1, draw(st.integers(1, 5)) + 1)
    ]
    batch = [
        LeadFacts(id=i, **{f: draw(st.sampled_from(v)) for f, v in FIELDS.items()})
        for i in range(draw(st.integers(1, 25)))
    ]
    return reps, rules, batch, draw(st.randoms(use_true_random=False))


def _run(reps, rules, batch):
    snap = RoutingSnapshot(
        now=NOW, rules=rules, reps={r.id: RepState(**_fields(r)) for r in reps}, territories=TERRITORIES
    )
    engine = RoutingEngine(snap)
    return [engine.decide(lead) for lead in batch]


def _fields(rep: RepState) -> dict:
    return {name: getattr(rep, name) for name in RepState.__slots__}


@hsettings(max_examples=200, deadline=None)
@given(rule_sets())
def test_shuffling_a_rules_conditions_never_changes_a_decision(setup):
    """Whichever condition the engine picks as a rule's index key, the rule decides the same."""
    reps, rules, batch, rnd = setup
    shuffled = [
        RuleSpec(
            **{
                **{n: getattr(r, n) for n in RuleSpec.__slots__},
                "conditions": rnd.sample(r.conditions, len(r.conditions)),
            }
        )
        for r in rules
    ]
    first, second = _run(reps, rules, batch), _run(reps, shuffled, batch)
    assert [(d.outcome, d.rep_id, d.rule_id) for d in first] == [(d.outcome, d.rep_id, d.rule_id) for d in second]
    # And the condition a trace names as failed really fails for that lead.
    by_id = {r.id: r for r in rules}
    for lead, decision in zip(batch, first, strict=True):
        for entry in decision.reason["rules"]:
            if "failed" in entry:
                spec = next(r for r in by_id.values() if r.name == entry["rule"])
                alone = rule(
                    99, rep_ids=[1], conditions=[c for c in spec.conditions if _text(c) == entry["failed"]][:1]
                )
                assert _run([RepState(id=1)], [alone], [lead])[0].outcome == UNROUTABLE


def _text(c: Condition) -> str:
    return f"in_territory {c.value}" if c.op == "in_territory" else f"{c.field} {c.op} {c.value}"


# ------------------------------------------------------------------ matched pools
def test_a_matched_pool_takes_the_reps_of_each_level_itself_not_of_the_territories_inside_it():
    # An Austrian lead is in DACH; the only DACH-area rep is attached to Bavaria (inside DACH).
    reps = [RepState(id=1, territory_ids=frozenset({3})), RepState(id=2, territory_ids=frozenset({1}))]
    decision = decide([rule(1, territory_id="matched")], reps, TERRITORIES, country="AT")
    assert (decision.rep_id, decision.territory_id) == (2, 1)  # widened to EMEA, not down to Bavaria
    assert decision.reason["rules"][0]["widened_from"] == [{"territory": "DACH", "territory_id": 2, "skipped": []}]


def test_a_matched_pool_widens_to_parents_only_never_sideways():
    # A Scottish lead; the Bavaria rep is free, the Scotland and UK reps are full, EMEA has nobody.
    reps = [
        RepState(id=1, territory_ids=frozenset({3})),
        RepState(id=2, territory_ids=frozenset({6}), capacity=0),
        RepState(id=3, territory_ids=frozenset({5}), capacity=0),
    ]
    decision = decide([rule(1, territory_id="matched")], reps, TERRITORIES, country="GB", region="SCT")
    assert decision.outcome == UNROUTABLE
    levels = [level["territory"] for level in decision.reason["rules"][0]["territories"]]
    assert levels == ["Scotland", "UK", "EMEA"]


def test_a_named_territory_pool_still_includes_the_reps_of_the_territories_inside_it():
    reps = [RepState(id=1, territory_ids=frozenset({4}))]  # Munich, inside Bavaria inside DACH
    assert decide([rule(1, territory_id="DACH")], reps, TERRITORIES, country="AT").rep_id == 1


# ------------------------------------------------------------------ direct
def test_direct_tries_the_listed_reps_in_order_then_the_rest_of_the_pool_in_a_stable_order():
    reps = [RepState(id=i, team_id=1, capacity=1) for i in (1, 2, 3, 4)] + [
        RepState(id=5, territory_ids=frozenset({2}))
    ]
    reps[3].capacity = 0  # listed first, full
    r = rule(1, rep_ids=[4, 2], team_id=1, territory_id="DACH", strategy="direct")
    snap = RoutingSnapshot(now=NOW, rules=[r], reps={rep.id: rep for rep in reps}, territories=TERRITORIES)
    engine = RoutingEngine(snap)
    # 4 is full, 2 takes one lead; then the rest of the pool by id: 1 and 3 (team), 5 (territory)
    assert [engine.decide(LeadFacts(id=i)).rep_id for i in range(1, 6)] == [2, 1, 3, 5, 5]


def test_direct_with_nobody_eligible_follows_when_none_eligible():
    reps = [RepState(id=1, capacity=0), RepState(id=2)]
    held = decide([rule(1, rep_ids=[1], strategy="direct", when_none_eligible="hold"), rule(2, rep_ids=[2])], reps)
    assert (held.outcome, held.rule_id, held.held) == (POOLED, 1, True)
    moved_on = decide([rule(1, rep_ids=[1], strategy="direct"), rule(2, rep_ids=[2])], reps)
    assert (moved_on.rep_id, moved_on.rule_id) == (2, 2)


# ------------------------------------------------------------------ text conditions
@pytest.mark.parametrize(
    "field, op, value, facts",
    [
        ("industry", "equals", " Airline ", {"industry": "airline"}),
        ("industry", "equals", "airline", {"industry": "  AIRLINE\t"}),
        ("country", "in", ["de", " AT "], {"country": "At"}),
        ("company", "contains", " CORP ", {"company": "Acme Corporation "}),
        ("city", "starts_with", "MÜN", {"city": " münchen"}),
        ("language", "not_in", ["EN "], {"language": "de"}),
        ("extra.plan", "equals", "PRO", {"extra": {"plan": " pro "}}),
    ],
)
def test_text_conditions_compare_trimmed_and_case_insensitively(field, op, value, facts):
    assert decide([rule(1, rep_ids=[1], conditions=[Condition(field, op, value)])], ONE_REP, **facts).rep_id == 1


@pytest.mark.parametrize(
    "email, holds",
    [
        ("ana@acme.com", True),
        ("ana@eu.acme.com", True),
        ("ana@Sales.EU.Acme.Com", True),
        ("ana@notacme.com", False),
        ("ana@acme.com.evil.io", False),
        ("ana", False),
    ],
)
def test_email_domain_in_also_matches_sub_domains(email, holds):
    rules = [rule(1, rep_ids=[1], conditions=[Condition("email", "email_domain_in", [" ACME.com"])])]
    assert (decide(rules, ONE_REP, email=email).outcome == ASSIGNED) is holds


@pytest.mark.parametrize(
    "op, value, holds_on_empty_fact, holds_on_value",
    [
        ("equals", "", False, False),
        ("in", ["", " "], False, False),
        ("contains", "", False, False),
        ("starts_with", "  ", False, False),
        ("email_domain_in", [""], False, False),
        ("not_equals", "", True, True),
    ],
)
def test_an_empty_condition_value_stored_before_validation_matches_no_lead(
    op, value, holds_on_empty_fact, holds_on_value
):
    rules = [rule(1, rep_ids=[1], conditions=[Condition("industry", op, value)])]
    assert (decide(rules, ONE_REP, industry="", email="a@acme.com").outcome == ASSIGNED) is holds_on_empty_fact
    assert (decide(rules, ONE_REP, industry="rail", email="a@acme.com").outcome == ASSIGNED) is holds_on_value


# ------------------------------------------------------------------ pool rules
SKILL = 7


def pool_rule(**kw):
    return rule(1, team_id=1, strategy="pool", required_skill_ids=frozenset({SKILL}), **kw)


@pytest.mark.parametrize(
    "member",
    [
        RepState(id=1, team_id=1, active=False, skills={SKILL: 3}),
        RepState(id=1, team_id=1, time_off=AWAY, skills={SKILL: 3}),
        RepState(id=1, team_id=1, skills={}),
    ],
    ids=["inactive", "on-time-off", "missing-skill"],
)
def test_a_pool_rule_does_not_decide_when_no_member_could_claim_and_the_next_rule_is_tried(member):
    fallback = rule(2, rep_ids=[9])
    decision = decide([pool_rule(), fallback], [member, RepState(id=9)])
    assert (decision.outcome, decision.rule_id, decision.rep_id) == (ASSIGNED, 2, 9)
    assert decision.reason["rules"][0]["result"] in ("no_eligible_rep", "empty_pool")


def test_a_pool_rule_pools_when_one_member_is_active_present_and_skilled_whatever_their_load():
    members = [
        RepState(id=1, team_id=1, skills={}),
        RepState(id=2, team_id=1, skills={SKILL: 1}, capacity=0, daily_cap=0),  # checked when they claim
    ]
    decision = decide([pool_rule(), rule(2, rep_ids=[9])], [*members, RepState(id=9)])
    assert (decision.outcome, decision.rule_id, decision.rep_id) == (POOLED, 1, None)


def test_a_claim_checks_capacity_daily_cap_claim_limit_and_the_required_skills():
    r = pool_rule(claim_limit=2)
    rep = RepState(id=1, team_id=1, skills={SKILL: 2}, capacity=5, daily_cap=3)
    assert claim_refusal(rep, rule=r, open_claimed=0, now=NOW) is None
    assert claim_refusal(rep, rule=r, open_claimed=2, now=NOW) == "claim_limit_reached"
    rep.assigned_today = 3
    assert claim_refusal(rep, rule=r, open_claimed=0, now=NOW) == "daily_cap_reached"
    rep.assigned_today, rep.open_leads = 0, 5
    assert claim_refusal(rep, rule=r, open_claimed=0, now=NOW) == "at_capacity"
    rep.open_leads, rep.skills = 0, {}
    assert claim_refusal(rep, rule=r, open_claimed=0, now=NOW) == "missing_skill"
    rep.skills, rep.time_off = {SKILL: 2}, AWAY
    assert claim_refusal(rep, rule=r, open_claimed=0, now=NOW) == "on_time_off"
