"""Ops admin for territories, rules and the audit trail: pages render, no query per row."""

import io

import pytest
from django.urls import reverse

from routing.models import Assignment, RepDailyCount, RotationCursor, Rule, RuleSet, Territory
from routing.tests.admin_pages import page_queries, page_url, queries_at_5_and_50_rows
from routing.tests.factories import AssignmentFactory, RuleConditionFactory, RuleFactory, TerritoryFactory

pytestmark = pytest.mark.django_db
MAX_QUERIES = 30


@pytest.fixture
def ops(admin_client):
    return admin_client


PAGES = [
    ("changelist", Territory),
    ("add", Territory),
    ("change", Territory),
    ("changelist", Rule),
    ("add", Rule),
    ("change", Rule),
    ("changelist", RuleSet),
    ("change", RuleSet),
    ("changelist", Assignment),
    ("change", Assignment),
    ("changelist", RotationCursor),
    ("change", RotationCursor),
    ("changelist", RepDailyCount),
    ("change", RepDailyCount),
]


@pytest.mark.parametrize("kind, model", PAGES, ids=[f"{m.__name__}-{k}" for k, m in PAGES])
def test_page_renders_in_the_same_few_queries_at_5_and_50_rows(ops, kind, model):
    RuleSet.current()
    at_5, at_50 = queries_at_5_and_50_rows(ops, kind, model)
    assert at_50 == at_5 <= MAX_QUERIES


def test_rule_list_is_in_priority_order(ops):
    RuleFactory(name="Catch-all", priority=900)
    RuleFactory(name="DACH airlines", priority=10)
    rows = ops.get(reverse("admin:routing_rule_changelist")).context["cl"].result_list
    assert [rule.name for rule in rows] == ["DACH airlines", "Catch-all"]


VALUE_INPUTS = {"text": 0, "list": 1, "number": 2, "low": 3, "high": 4, "territory": 5}


def condition_data(n: int, fact: str, op: str, **values) -> dict:
    """One condition row of the rule page as the browser posts it (fact, operator, the value inputs)."""
    key = ""
    if fact.startswith("extra."):
        fact, key = "extra", fact[len("extra.") :]
    data = {f"conditions-{n}-field_0": fact, f"conditions-{n}-field_1": key, f"conditions-{n}-op": op}
    data |= {f"conditions-{n}-value_{i}": "" for i in VALUE_INPUTS.values()}
    data |= {f"conditions-{n}-value_{VALUE_INPUTS[name]}": str(v) for name, v in values.items()}
    data[f"conditions-{n}-position"] = str(n)
    return data


def rule_form_data(rule, **changes) -> dict:
    data = {
        "name": rule.name,
        "priority": rule.priority,
        "active": "on",
        "strategy": rule.strategy,
        "when_none_eligible": rule.when_none_eligible,
        "sla_action": rule.sla_action,
        "conditions-TOTAL_FORMS": "1",
        "conditions-INITIAL_FORMS": "0",
        **condition_data(0, "country", "equals", text="DE"),
        "pool_entries-TOTAL_FORMS": "0",
        "pool_entries-INITIAL_FORMS": "0",
    }
    data.update(changes)
    return data


def test_saving_a_rule_change_bumps_the_rule_set_version(ops):
    rule = RuleFactory(name="DACH airlines", priority=10)
    before = RuleSet.current().version
    url = reverse("admin:routing_rule_change", args=[rule.pk])
    response = ops.post(url, rule_form_data(rule, priority="20"))
    assert response.status_code == 302
    assert RuleSet.current().version == before + 1
    assert rule.conditions.get().value == "DE"


def test_condition_naming_an_unknown_territory_is_refused_in_ops_language(ops):
    rule = RuleFactory()
    before = RuleSet.current().version
    url = reverse("admin:routing_rule_change", args=[rule.pk])
    response = ops.post(url, rule_form_data(rule, **condition_data(0, "country", "in_territory", territory="Atlantis")))
    assert response.status_code == 200
    assert "No territory is named “Atlantis”." in response.content.decode()
    assert RuleSet.current().version == before and not rule.conditions.exists()


def test_condition_with_bad_value_is_explained(ops):
    rule = RuleFactory()
    response = ops.post(
        reverse("admin:routing_rule_change", args=[rule.pk]),
        rule_form_data(rule, **condition_data(0, "country", "in", list=" , ")),
    )
    assert "needs a list of values" in response.content.decode()


def test_conditions_are_written_with_choices_and_plain_values_no_json(ops):
    from routing.routing_file import RoutingFileError, routing_config_load

    rule = RuleFactory(name="Mid-market DACH")
    TerritoryFactory(name="DACH", countries=["DE", "AT", "CH"])
    url = reverse("admin:routing_rule_change", args=[rule.pk])
    rows = [
        condition_data(0, "country", "in", list="DE, AT,ch"),
        condition_data(1, "company_size", "between", low="50", high="999"),
        condition_data(2, "score", "gte", number="70.5"),
        condition_data(3, "extra.plan", "equals", text=" gold "),
        condition_data(4, "phone", "is_empty"),
        condition_data(5, "country", "in_territory", territory="DACH"),
    ]
    data = rule_form_data(rule, **{"conditions-TOTAL_FORMS": "6"})
    for row in rows:
        data |= row
    assert ops.post(url, data).status_code == 302
    stored = list(rule.conditions.order_by("position").values_list("field", "op", "value"))
    assert stored == [
        ("country", "in", ["DE", "AT", "ch"]),
        ("company_size", "between", [50, 999]),
        ("score", "gte", 70.5),
        ("extra.plan", "equals", "gold"),
        ("phone", "is_empty", None),
        ("country", "in_territory", "DACH"),
    ]
    page = ops.get(url).content.decode()
    assert 'value="DE, AT, ch"' in page and 'value="gold"' in page
    assert "Enter a valid JSON" not in page and "null" not in page.split('id="conditions-group"')[1][:4000]

    # Saving the page unchanged changes nothing (no version bump for an unchanged list or range).
    before = RuleSet.current().version
    unchanged = rule_form_data(rule, **{"conditions-TOTAL_FORMS": "6", "conditions-INITIAL_FORMS": "6"})
    for row, condition in zip(rows, rule.conditions.order_by("position"), strict=True):
        unchanged |= row | {f"conditions-{condition.position}-id": str(condition.pk)}
    assert ops.post(url, unchanged).status_code == 302
    assert RuleSet.current().version == before

    # The same words as load_routing for the same mistake.
    bad = ops.post(url, rule_form_data(rule, **condition_data(0, "score", "gte", number="")))
    with pytest.raises(RoutingFileError) as err:
        routing_config_load({"rules": [{"name": "x", "conditions": [{"field": "score", "op": "gte", "value": None}]}]})
    page = bad.content.decode()
    assert "gte” needs a number." in page, page[page.find("errorlist") - 200 : page.find("errorlist") + 400]
    assert 'gte" needs a number.' in str(err.value)


def test_assignment_page_explains_the_decision_readably(ops):
    assignment = AssignmentFactory(
        reason={
            "outcome": "assigned",
            "rules": [
                {"rule": "DACH airlines", "rule_id": 1, "result": "no_match", "failed": "industry equals airline"},
                {
                    "rule": "Germany round robin",
                    "rule_id": 2,
                    "result": "assigned",
                    "rep": "Ana Ruiz",
                    "rep_id": 7,
                    "strategy": "round_robin",
                    "territory": "Germany",
                    "territory_id": 3,
                    "skipped": [{"rep": "Bo Berg", "rep_id": 8, "reason": "at_capacity"}],
                },
            ],
        }
    )
    content = ops.get(reverse("admin:routing_assignment_change", args=[assignment.pk])).content.decode()
    assert "Round robin in “Germany round robin” (territory Germany): Ana Ruiz was next in the rotation" in content
    assert "skipped Bo Berg (at capacity)" in content
    assert "<summary>1 rule tried before</summary>" in content
    assert "“DACH airlines”: not met — industry is airline" in content
    assert "rep_id" not in content


def test_assignments_cannot_be_edited_or_added(ops):
    assignment = AssignmentFactory()
    assert ops.get(reverse("admin:routing_assignment_add")).status_code == 403
    response = ops.post(reverse("admin:routing_assignment_change", args=[assignment.pk]), {"rule_name": "x"})
    assert response.status_code == 403


def test_territory_list_shows_what_sits_inside(ops):
    emea = TerritoryFactory(name="EMEA", countries=[])
    TerritoryFactory(name="DACH", parent=emea, countries=["DE", "AT", "CH"])
    content = ops.get(reverse("admin:routing_territory_changelist")).content.decode()
    assert "DE, AT, CH" in content and "(through the territories inside)" in content


def test_every_reps_and_routing_page_renders_on_the_demo_company_in_few_queries(ops):
    from django.core.management import call_command

    from leadops.demo import ADMIN_PASSWORD, ADMIN_USERNAME
    from reps.models import Rep, SkillTag, Team

    call_command("seed_demo", stdout=io.StringIO())
    assert ops.login(username=ADMIN_USERNAME, password=ADMIN_PASSWORD)  # the seed reset the demo admin's password
    pages = PAGES + [(kind, model) for model in (Team, SkillTag, Rep) for kind in ("changelist", "add", "change")]
    for kind, model in pages:
        if kind == "change" and not model.objects.exists():
            continue  # rotation cursors appear once the engine routes
        assert page_queries(ops, page_url(kind, model)) <= MAX_QUERIES, (kind, model.__name__)
    # The busiest pages ops open: the rule with the longest pool and a reassigned lead's assignment.
    busiest_rule = Rule.objects.order_by("-priority").first()
    assert page_queries(ops, reverse("admin:routing_rule_change", args=[busiest_rule.pk])) <= MAX_QUERIES
    reassigned = Assignment.objects.filter(end_reason="misrouted", decided_by="engine").first()
    response = ops.get(reverse("admin:routing_assignment_change", args=[reassigned.pk]))
    assert 'class="reason-trace"' in response.content.decode()


def test_saving_a_territory_bumps_the_rule_set_version_and_bad_codes_are_explained(ops):
    before = RuleSet.current().version
    url = reverse("admin:routing_territory_add")
    bad = ops.post(url, {"name": "Nordics", "countries": '["SE", "Norway"]', "regions": "[]", "postal_prefixes": "[]"})
    assert "Not ISO alpha-2 country codes: NORWAY." in bad.content.decode()
    assert RuleSet.current().version == before
    good = ops.post(url, {"name": "Nordics", "countries": '["se", "no"]', "regions": "[]", "postal_prefixes": "[]"})
    assert good.status_code == 302
    assert Territory.objects.get(name="Nordics").countries == ["SE", "NO"]
    assert RuleSet.current().version == before + 1


def test_rule_list_warns_about_a_shadowed_rule(ops):
    RuleFactory(name="Everything", priority=10)
    RuleFactory(name="Never reached", priority=20)
    content = ops.get(reverse("admin:routing_rule_changelist")).content.decode()
    assert "rule “Never reached”: higher rule “Everything” (priority 10) has no conditions" in content


def test_manual_reassignment_and_claim_read_as_sentences(ops):
    manual = AssignmentFactory(
        rule=None,
        strategy="manual",
        decided_by="user",
        reason={
            "outcome": "assigned",
            "manual": True,
            "by": "ops.lisa",
            "rep": "Ana Ruiz",
            "rep_id": 3,
            "from": "Bo Berg",
            "from_status": "assigned",
        },
    )
    claim = AssignmentFactory(
        strategy="pool_claim",
        decided_by="user",
        reason={
            "outcome": "assigned",
            "claimed": True,
            "rule": "LATAM pool",
            "rule_id": 9,
            "rep": "Rafael Costa",
            "rep_id": 4,
        },
    )
    manual_page = ops.get(reverse("admin:routing_assignment_change", args=[manual.pk])).content.decode()
    claim_page = ops.get(reverse("admin:routing_assignment_change", args=[claim.pk])).content.decode()
    assert "Reassigned by hand by ops.lisa</strong>; from Bo Berg to Ana Ruiz" in manual_page
    assert "Claimed by Rafael Costa from the pool of “LATAM pool”" in claim_page


def test_the_routing_map_draws_the_chain_with_pools_and_marks(ops):
    from reps.tests.factories import RepFactory, TeamFactory

    team = TeamFactory()
    RepFactory(team=team), RepFactory(team=team, active=False)
    first = RuleFactory(name="Airlines", priority=5, pool_team=team)
    RuleConditionFactory(rule=first, field="industry", op="equals", value="airline")
    RuleFactory(name="Nobody home", priority=9)
    page = ops.get(reverse("admin:routing_rule_map")).content.decode()
    assert page.index("Airlines") < page.index("Nobody home")
    assert "industry is airline" in page and "2 reps, 1 eligible now" in page
    assert "its pool is empty" in page
    assert reverse("admin:routing_rule_change", args=[first.pk]) in page
