"""The routing set-up as a file: load validates everything first, upserts, and dump round-trips."""

import copy
import io
import json

import pytest
from django.core.management import CommandError, call_command

from reps.models import Rep, SkillTag, Team, TimeOff
from reps.tests.factories import RepFactory
from routing.models import Rule, RuleSet, Territory
from routing.routing_file import RoutingFileError, routing_config_dump, routing_config_load
from routing.tests.factories import RuleFactory

pytestmark = pytest.mark.django_db

PRODUCT_EXAMPLE = {
    "skills": ["airline", "enterprise", "spanish"],
    "teams": [{"name": "EMEA Enterprise"}],
    "territories": [
        {"name": "EMEA", "countries": ["DE", "AT", "CH", "FR", "GB"]},
        {"name": "DACH", "parent": "EMEA", "countries": ["DE", "AT", "CH"], "regions": [], "postal_prefixes": []},
    ],
    "reps": [
        {
            "email": "ana@example.com",
            "name": "Ana Ruiz",
            "team": "EMEA Enterprise",
            "territories": ["DACH"],
            "skills": {"airline": 4, "spanish": 5},
            "capacity": 40,
            "daily_cap": 15,
            "weight": 1.0,
            "timezone": "Europe/Berlin",
            "working_hours": {"start": "08:00", "end": "18:00", "days": [1, 2, 3, 4, 5]},
            "active": True,
            "time_off": [{"start": "2026-12-24T00:00:00Z", "end": "2026-12-27T00:00:00Z"}],
        },
    ],
    "rules": [
        {
            "name": "DACH airlines",
            "priority": 10,
            "active": True,
            "conditions": [
                {"field": "country", "op": "in_territory", "value": "DACH"},
                {"field": "industry", "op": "equals", "value": "airline"},
            ],
            "pool": {"team": None, "reps": [], "territory": "DACH"},
            "required_skills": ["airline"],
            "preferred_skills": [],
            "strategy": "round_robin",
            "when_none_eligible": "next_rule",
            "requires_working_hours": False,
            "sla_minutes": 30,
        },
    ],
}


def dump_text() -> str:
    out = io.StringIO()
    call_command("dump_routing", stdout=out)
    return out.getvalue()


def load_file(tmp_path, data) -> str:
    path = tmp_path / "routing.json"
    path.write_text(json.dumps(data) if not isinstance(data, str) else data)
    out = io.StringIO()
    call_command("load_routing", str(path), stdout=out)
    return out.getvalue()


def test_product_example_loads_into_the_admin_models(tmp_path):
    load_file(tmp_path, PRODUCT_EXAMPLE)
    ana = Rep.objects.get(email="ana@example.com")
    assert ana.team.name == "EMEA Enterprise" and ana.capacity == 40 and ana.timezone == "Europe/Berlin"
    assert {rs.skill.name: rs.proficiency for rs in ana.rep_skills.all()} == {"airline": 4, "spanish": 5}
    assert list(ana.territories.values_list("name", flat=True)) == ["DACH"]
    assert ana.time_off.get().start.isoformat() == "2026-12-24T00:00:00+00:00"
    assert Territory.objects.get(name="DACH").parent.name == "EMEA"
    rule = Rule.objects.get(name="DACH airlines")
    assert rule.priority == 10 and rule.pool_territory.name == "DACH" and rule.sla_minutes == 30
    assert [(c.field, c.op, c.value) for c in rule.conditions.all()] == [
        ("country", "in_territory", "DACH"),
        ("industry", "equals", "airline"),
    ]
    assert list(rule.required_skills.values_list("name", flat=True)) == ["airline"]


def test_dump_gives_back_what_was_loaded_with_defaults_filled_in():
    routing_config_load(PRODUCT_EXAMPLE)
    dumped = routing_config_dump()
    assert dumped["skills"] == PRODUCT_EXAMPLE["skills"]
    assert dumped["reps"] == [{**PRODUCT_EXAMPLE["reps"][0], "notify_email": True}]
    assert dumped["rules"] == [{**PRODUCT_EXAMPLE["rules"][0], "claim_limit": None, "sla_action": "notify"}]
    assert dumped["territories"][0] == {
        "name": "EMEA",
        "parent": None,
        "countries": ["DE", "AT", "CH", "FR", "GB"],
        "regions": [],
        "postal_prefixes": [],
    }


def test_dump_load_dump_is_byte_identical(tmp_path):
    routing_config_load(PRODUCT_EXAMPLE)
    RuleFactory(name="Catch-all", priority=999, strategy="load_balanced", pool_matched_territory=True)
    first = dump_text()
    version = RuleSet.current().version
    output = load_file(tmp_path, first)
    assert "Nothing to change" in output
    assert dump_text() == first
    assert RuleSet.current().version == version


def test_loading_the_same_file_twice_changes_nothing_the_second_time(tmp_path):
    assert "rules: 1 created" in load_file(tmp_path, PRODUCT_EXAMPLE)
    before = dump_text()
    updated_at = Rep.objects.get().updated_at
    version = RuleSet.current().version
    assert "Nothing to change" in load_file(tmp_path, PRODUCT_EXAMPLE)
    assert dump_text() == before
    assert Rep.objects.get().updated_at == updated_at and RuleSet.current().version == version


def test_only_natural_keys_are_required_and_the_rest_takes_documented_defaults():
    routing_config_load(
        {
            "skills": [],
            "teams": [{"name": "Inbound"}],
            "territories": [{"name": "Nordics"}],
            "reps": [{"email": "bo@example.com"}],
            "rules": [{"name": "Everything"}],
        }
    )
    bo = Rep.objects.get(email="bo@example.com")
    assert (bo.name, bo.active, bo.capacity, bo.daily_cap, float(bo.weight), bo.timezone, bo.working_hours) == (
        "bo",
        True,
        100,
        50,
        1.0,
        "UTC",
        {},
    )
    rule = Rule.objects.get(name="Everything")
    assert (rule.priority, rule.active, rule.strategy, rule.when_none_eligible, rule.sla_minutes) == (
        100,
        True,
        "round_robin",
        "next_rule",
        None,
    )
    assert not rule.conditions.exists() and not rule.pool_territory_id and not rule.pool_matched_territory


def test_pool_territory_may_be_matched():
    data = copy.deepcopy(PRODUCT_EXAMPLE)
    data["rules"][0]["pool"]["territory"] = "matched"
    routing_config_load(data)
    rule = Rule.objects.get()
    assert rule.pool_matched_territory and rule.pool_territory is None
    assert routing_config_dump()["rules"][0]["pool"]["territory"] == "matched"


def test_validation_errors_name_the_entry_and_field():
    data = copy.deepcopy(PRODUCT_EXAMPLE)
    data["rules"].append({"name": "Spare", "conditions": []})
    data["rules"].append(
        {"name": "DACH airlines 2", "conditions": [{"field": "country", "op": "inn", "value": ["DE"]}]}
    )
    data["reps"][0]["capacity"] = -1
    data["reps"][0]["skills"]["airline"] = 9
    data["rules"][0]["pool"]["reps"] = ["nobody@example.com"]
    with pytest.raises(RoutingFileError) as err:
        routing_config_load(data)
    messages = err.value.messages
    assert 'rules[2] "DACH airlines 2": conditions[0].op: "inn" is not an operator' in messages[-1]
    assert any(m.startswith('reps[0] "ana@example.com": capacity: -1 is not a whole number') for m in messages)
    assert any(m.startswith('reps[0] "ana@example.com": skills.airline: proficiency 9 is not 1') for m in messages)
    assert any(
        m.startswith('rules[0] "DACH airlines": pool.reps: "nobody@example.com" is not a known rep') for m in messages
    )
    assert len(messages) == 4


@pytest.mark.parametrize(
    "change, message",
    [
        (
            lambda d: d["territories"][1].update(parent="Atlantis"),
            'territories "DACH": parent: "Atlantis" is not a known territory',
        ),
        (lambda d: d["territories"][0].update(parent="DACH"), "sit inside themselves"),
        (lambda d: d["reps"][0].update(weight=0), 'reps[0] "ana@example.com": weight: 0 is not a weight above 0'),
        (
            lambda d: d["reps"][0].update(timezone="Mars/Base"),
            'reps[0] "ana@example.com": timezone: "Mars/Base" is not a time zone',
        ),
        (
            lambda d: d["reps"][0]["time_off"][0].update(end="2026-12-20T00:00:00Z"),
            "time_off[0].end: time off must end after it starts",
        ),
        (
            lambda d: d["rules"][0].update(strategy="random"),
            'rules[0] "DACH airlines": strategy: "random" is not a strategy',
        ),
        (lambda d: d["rules"][0].update(when_none_eligible="drop"), 'when_none_eligible: "drop" is not allowed'),
        (
            lambda d: d["rules"][0]["conditions"][0].update(value="Atlantis"),
            'conditions[0].value: "Atlantis" is not a known territory',
        ),
        (
            lambda d: d["rules"][0]["conditions"][1].update(op="between", value=[1]),
            'conditions[1].value: "between" needs [low, high]',
        ),
        (lambda d: d["rules"][0].update(priorty=5), '"priorty" is not a field here'),
        (
            lambda d: d["rules"][0].update(required_skills=["cooking"]),
            'required_skills: "cooking" is not a known skill',
        ),
        (lambda d: d["rules"].append({"name": "DACH airlines"}), 'rules[1] "DACH airlines": is listed twice'),
        (lambda d: d["teams"].append({}), 'teams[1]: "name" is required'),
    ],
)
def test_each_kind_of_mistake_is_named(change, message):
    data = copy.deepcopy(PRODUCT_EXAMPLE)
    change(data)
    with pytest.raises(RoutingFileError) as err:
        routing_config_load(data)
    assert any(message in m for m in err.value.messages), err.value.messages


def test_a_bad_file_changes_nothing(tmp_path):
    routing_config_load(PRODUCT_EXAMPLE)
    before = dump_text()
    data = copy.deepcopy(PRODUCT_EXAMPLE)
    data["skills"].append("cooking")
    data["teams"].append({"name": "NA Mid-Market"})
    data["reps"][0]["capacity"] = 10
    data["rules"][0]["conditions"][0]["op"] = "inn"
    with pytest.raises(CommandError) as err:
        load_file(tmp_path, data)
    assert "nothing changed" in str(err.value) and '"inn" is not an operator' in str(err.value)
    assert dump_text() == before
    assert (
        not SkillTag.objects.filter(name="cooking").exists() and not Team.objects.filter(name="NA Mid-Market").exists()
    )


def test_file_that_is_not_json_is_refused_with_its_position(tmp_path):
    with pytest.raises(CommandError, match="not valid JSON: line 1"):
        load_file(tmp_path, "{skills: []")


def test_rules_absent_from_the_file_are_deactivated_not_deleted(tmp_path):
    RuleFactory(name="Old promo rule", active=True)
    output = load_file(tmp_path, PRODUCT_EXAMPLE)
    assert "rule deactivated (not in the file): Old promo rule" in output
    assert Rule.objects.get(name="Old promo rule").active is False


def test_reps_absent_from_the_file_are_kept_as_they_are(tmp_path):
    kept = RepFactory(email="kept@example.com", capacity=7)
    load_file(tmp_path, PRODUCT_EXAMPLE)
    kept.refresh_from_db()
    assert kept.active and kept.capacity == 7


def test_reloading_a_changed_file_updates_in_place_and_bumps_the_rule_set_version(tmp_path):
    routing_config_load(PRODUCT_EXAMPLE)
    version = RuleSet.current().version
    data = copy.deepcopy(PRODUCT_EXAMPLE)
    data["reps"][0].update(capacity=25, time_off=[])
    data["rules"][0].update(priority=5, conditions=[])
    output = load_file(tmp_path, data)
    assert "reps: 0 created, 1 updated" in output and "rules: 0 created, 1 updated" in output
    ana = Rep.objects.get()
    assert ana.capacity == 25 and not TimeOff.objects.exists()
    rule = Rule.objects.get()
    assert rule.priority == 5 and not rule.conditions.exists()
    assert RuleSet.current().version == version + 1


def test_a_rep_deactivated_by_the_file_hands_back_leads_as_from_the_admin(tmp_path, django_capture_on_commit_callbacks):
    """The file and the admin call the same rep service: leads not yet contacted go back, contacted ones stay."""
    from django.utils import timezone

    from leadops.tests.factories import LeadFactory
    from routing.models import Assignment

    routing_config_load(PRODUCT_EXAMPLE)
    ana = Rep.objects.get(email="ana@example.com")
    contacted = LeadFactory(status="assigned", owner=ana, first_contacted_at=timezone.now())
    waiting = LeadFactory(status="assigned", owner=ana)
    Assignment.objects.create(lead=waiting, rep=ana, created_at=timezone.now())
    data = copy.deepcopy(PRODUCT_EXAMPLE)
    data["reps"][0]["active"] = False
    with django_capture_on_commit_callbacks(execute=False):
        load_file(tmp_path, data)
    ana.refresh_from_db()
    waiting.refresh_from_db()
    assert not ana.active
    assert waiting.owner_id is None and waiting.status == "pending"
    assert Assignment.objects.get(lead=waiting, rep=ana).end_reason == "deactivated"
    assert Rep.objects.get(pk=ana.pk).leads.get() == contacted


def test_a_teams_hand_back_of_away_reps_leads_loads_and_dumps_back_the_same(tmp_path):
    data = copy.deepcopy(PRODUCT_EXAMPLE)
    data["teams"] = [{"name": "EMEA Enterprise", "away_hand_back_after_minutes": 90}, {"name": "Inbound"}]
    load_file(tmp_path, data)
    assert dict(Team.objects.values_list("name", "away_hand_back_after_minutes")) == {
        "EMEA Enterprise": 90,
        "Inbound": None,
    }
    assert routing_config_dump()["teams"] == [
        {"name": "EMEA Enterprise", "away_hand_back_after_minutes": 90},
        {"name": "Inbound", "away_hand_back_after_minutes": None},  # left out: the default, leads wait
    ]
    first = dump_text()
    assert "Nothing to change" in load_file(tmp_path, first)
    assert dump_text() == first
    # A stored team's setting changes with the file, and back to waiting when the file says null.
    data["teams"][0]["away_hand_back_after_minutes"] = None
    data["teams"][1]["away_hand_back_after_minutes"] = 0
    load_file(tmp_path, data)
    assert dict(Team.objects.values_list("name", "away_hand_back_after_minutes")) == {
        "EMEA Enterprise": None,
        "Inbound": 0,
    }


@pytest.mark.parametrize("value", ["soon", -5, 1.5, True, [60]])
def test_a_bad_hand_back_time_names_the_team_and_field_and_changes_nothing(value):
    data = copy.deepcopy(PRODUCT_EXAMPLE)
    data["teams"][0]["away_hand_back_after_minutes"] = value
    with pytest.raises(RoutingFileError) as err:
        routing_config_load(data)
    assert err.value.messages == [
        f'teams[0] "EMEA Enterprise": away_hand_back_after_minutes: {json.dumps(value)} is not a number of '
        "minutes (a whole number ≥ 0), or null to keep the leads of reps on time off waiting for them"
    ]
    assert not Team.objects.exists()
