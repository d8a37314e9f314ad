"""Rule health: check_rules names what cannot work and exits 1; a sound set-up passes."""

import io

import pytest
from django.core.management import call_command

from leadops.tests.factories import LeadFactory
from reps.tests.factories import RepFactory, SkillTagFactory, TeamFactory
from routing.rule_health import rule_health_findings
from routing.tests.factories import RuleConditionFactory, RuleFactory, RulePoolRepFactory, TerritoryFactory

pytestmark = pytest.mark.django_db


def findings() -> list[str]:
    return [str(f) for f in rule_health_findings()]


@pytest.fixture
def sound_setup():
    emea = TerritoryFactory(name="EMEA", countries=[])
    dach = TerritoryFactory(name="DACH", parent=emea, countries=["DE", "AT", "CH"])
    team = TeamFactory(name="DACH Enterprise")
    RepFactory(team=team, territories=[dach], capacity=10)
    airline = RuleFactory(name="DACH airlines", priority=10, pool_territory=dach)
    RuleConditionFactory(rule=airline, field="industry", op="equals", value="airline")
    RuleFactory(name="Everything else", priority=100, pool_team=team)
    return {"dach": dach, "team": team}


def run() -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("check_rules", stdout=out, stderr=err)
    except SystemExit as exit:
        return exit.code, out.getvalue()
    return 0, out.getvalue()


def test_sound_setup_passes(sound_setup):
    code, output = run()
    assert code == 0 and "Rules look healthy" in output


def test_rule_below_a_catch_all_is_reported_and_exit_code_is_1(sound_setup):
    RuleFactory(name="Never reached", priority=200, pool_team=sound_setup["team"])
    code, output = run()
    assert code == 1
    assert "[shadowed] rule “Never reached”: higher rule “Everything else” (priority 100) has no conditions" in output


def test_rule_with_the_same_conditions_below_another_is_shadowed(sound_setup):
    copy = RuleFactory(name="DACH airlines copy", priority=20, pool_territory=sound_setup["dach"])
    RuleConditionFactory(rule=copy, field="industry", op="equals", value="airline")
    assert any("rule “DACH airlines copy”: higher rule “DACH airlines”" in f for f in findings())


def test_inactive_catch_all_shadows_nothing(sound_setup):
    RuleFactory(name="Old catch-all", priority=1, active=False)
    assert findings() == []


def test_empty_inactive_full_and_unskilled_pools_are_reported(sound_setup):
    nobody = RuleFactory(name="Nobody", priority=1)
    RuleConditionFactory(rule=nobody, field="country", op="equals", value="FR")
    full = RuleFactory(name="Full", priority=2)
    RuleConditionFactory(rule=full, field="score", op="gte", value=90)
    busy = RepFactory(capacity=1)
    LeadFactory(status="assigned", owner=busy)
    RulePoolRepFactory(rule=full, rep=busy)
    gone = RuleFactory(name="Gone", priority=3)
    RuleConditionFactory(rule=gone, field="score", op="gte", value=80)
    RulePoolRepFactory(rule=gone, rep=RepFactory(active=False))
    skilled = RuleFactory(name="Spanish", priority=4, required_skills=[SkillTagFactory(name="spanish")])
    RuleConditionFactory(rule=skilled, field="language", op="equals", value="es")
    RulePoolRepFactory(rule=skilled, rep=RepFactory())
    result = findings()
    assert "[pool] rule “Nobody”: its pool is empty: list reps, a team or a territory with reps" in result
    assert "[pool] rule “Full”: every active rep in its pool is at capacity" in result
    assert "[pool] rule “Gone”: every rep in its pool is inactive" in result
    assert "[pool] rule “Spanish”: no active rep in its pool has all the required skills (spanish)" in result


def test_condition_naming_an_unknown_territory_is_reported(sound_setup):
    rule = RuleFactory(name="Nordics", priority=5, pool_team=sound_setup["team"])
    RuleConditionFactory(rule=rule, field="country", op="in_territory", value="Nordics")
    assert (
        "[unknown_territory] rule “Nordics”: condition “country is in territory Nordics” names no territory"
        in findings()
    )


def test_overlapping_territories_are_reported_but_nesting_is_not(sound_setup):
    TerritoryFactory(name="Germany South", parent=sound_setup["dach"], countries=["DE"], regions=["BY", "BW"])
    TerritoryFactory(name="Central Europe", countries=["DE", "PL"])
    TerritoryFactory(name="Germany North", countries=["DE"], regions=["HH"])
    result = [f for f in findings() if f.startswith("[overlap]")]
    assert "[overlap] territories “Central Europe” and “DACH”: both cover DE; neither sits inside the other" in result
    assert not any("“Germany North” and “Germany South”" in f for f in result)  # different regions
    assert not any("“DACH” and “Germany South”" in f for f in result)  # nested


def test_countries_of_recent_leads_that_no_territory_covers_are_reported(sound_setup):
    LeadFactory(country="BR")
    LeadFactory(country="DE")
    assert [f for f in findings() if f.startswith("[uncovered]")] == [
        "[uncovered] country BR: leads came from it in the last 90 days; no territory covers it"
    ]


def test_a_pool_rule_whose_members_all_lack_a_required_skill_is_reported(sound_setup):
    team = TeamFactory(name="Spanish desk")
    for _ in range(2):
        LeadFactory(status="assigned", owner=RepFactory(team=team, capacity=1))  # full too: the skill is named first
    pool = RuleFactory(name="Spanish pool", priority=5, pool_team=team, strategy="pool")
    pool.required_skills.set([SkillTagFactory(name="spanish")])
    RuleConditionFactory(rule=pool, field="language", op="equals", value="es")
    assert (
        "[pool] rule “Spanish pool”: no active rep in its pool has all the required skills (spanish); "
        "nobody could claim its leads, so it never pools one"
    ) in findings()


def test_conditions_that_can_never_hold_are_reported(sound_setup):
    team = sound_setup["team"]
    odd = RuleFactory(name="Odd", priority=5, pool_team=team)
    RuleConditionFactory(rule=odd, field="industry", op="equals", value="")
    RuleConditionFactory(rule=odd, field="region", op="in", value=["BY", " "])
    RuleConditionFactory(rule=odd, field="company_size", op="between", value=[500, 50])
    RuleConditionFactory(rule=odd, field="company_size", op="between", value=[50, 500])  # fine
    RuleConditionFactory(rule=odd, field="city", op="not_equals", value="")
    result = [f for f in findings() if f.startswith("[condition]")]
    empty = "compares with empty text, which matches no lead, so it {} holds; to test for a missing fact use “is empty”"
    assert result == [
        f'[condition] rule “Odd”: condition “industry equals ""” {empty.format("never")}',
        f'[condition] rule “Odd”: condition “region is one of ["BY", " "]” {empty.format("never")}',
        "[condition] rule “Odd”: condition “company_size between [500, 50]” can never hold: "
        "its low end 500 is above its high end 50",
        f'[condition] rule “Odd”: condition “city does not equal ""” {empty.format("always")}',
    ]
