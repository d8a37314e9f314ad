"""Issue 16's minimal cases and PRODUCT.md's precise readings end to end: the API, the routing
service, the routing file and the admin, on the database the suite runs on."""

from __future__ import annotations

import copy

import pytest
from django.urls import reverse

from leadops.tests.conftest import client_for
from leadops.tests.factories import IntegrationFactory
from reps.tests.factories import RepFactory, RepSkillFactory, SkillTagFactory, TeamFactory
from routing.models import RuleCondition, RuleSet
from routing.routing_file import RoutingFileError, routing_config_load
from routing.services import RoutingError, lead_claim, leads_route
from routing.tests.factories import RuleConditionFactory, RuleFactory, RulePoolRepFactory, TerritoryFactory
from routing.tests.test_admin import condition_data, rule_form_data
from routing.tests.test_routing_file import PRODUCT_EXAMPLE

pytestmark = pytest.mark.django_db


@pytest.fixture
def api():
    return client_for(IntegrationFactory(name="Web form"))


def post_and_route(api, **facts) -> dict:
    posted = api.post("/api/leads/", {"email": "buyer@example.com", **facts}, format="json")
    assert posted.status_code == 201, posted.json()
    lead_id = posted.json()["id"]
    leads_route(lead_ids=[lead_id])
    return api.get(f"/api/leads/{lead_id}/").json()


def rule_in_territory(territory_name: str):
    rep = RepFactory(name="Ana Ruiz", email="ana@example.com")
    rule = RuleFactory(name=f"{territory_name} only", priority=10)
    RuleConditionFactory(rule=rule, field="country", op="in_territory", value=territory_name)
    RulePoolRepFactory(rule=rule, rep=rep)
    return rep


def test_a_gb_lead_in_england_posted_through_the_api_is_unroutable_for_a_scotland_rule(api):
    TerritoryFactory(name="Scotland", countries=["GB"], regions=["SCT"])
    rep = rule_in_territory("Scotland")
    england = post_and_route(api, external_id="GB-ENG", country="GB", region="ENG")
    assert (england["status"], england["owner"]) == ("unroutable", None)
    assert england["assignment"]["rule"] is None
    assert england["assignment"]["reason"]["rules"] == [{"rule": "Scotland only", "failed": "in_territory Scotland"}]
    scotland = post_and_route(api, external_id="GB-SCT", country="GB", region="SCT")
    assert (scotland["status"], scotland["owner"]["id"]) == ("assigned", rep.pk)


def test_a_de_lead_outside_munichs_postal_prefix_posted_through_the_api_is_unroutable(api):
    TerritoryFactory(name="Munich", countries=["DE"], regions=[], postal_prefixes=["80"])
    rep = rule_in_territory("Munich")
    berlin = post_and_route(api, external_id="DE-BER", country="DE", postal_code="10115")
    assert (berlin["status"], berlin["owner"]) == ("unroutable", None)
    munich = post_and_route(api, external_id="DE-MUC", country="DE", postal_code="80331")
    assert (munich["status"], munich["owner"]["id"]) == ("assigned", rep.pk)


def test_a_pool_rule_nobody_could_claim_from_does_not_pool_and_the_next_rule_decides(api):
    spanish = SkillTagFactory(name="spanish")
    desk = TeamFactory(name="Spanish desk")
    RepFactory(team=desk, name="No Spanish")  # active and present, but lacks the skill
    RepSkillFactory(rep=RepFactory(team=desk, name="Gone", active=False), skill=spanish, proficiency=5)
    RuleFactory(name="Spanish pool", priority=10, pool_team=desk, strategy="pool", required_skills=[spanish])
    fallback = RepFactory(name="Fallback")
    RulePoolRepFactory(rule=RuleFactory(name="Everything else", priority=20), rep=fallback)
    lead = post_and_route(api, external_id="ES-1", country="ES")
    assert (lead["status"], lead["owner"]["id"], lead["assignment"]["rule"]) == (
        "assigned",
        fallback.pk,
        "Everything else",
    )
    assert lead["assignment"]["reason"]["rules"][0]["result"] == "no_eligible_rep"


def test_a_pooled_lead_is_claimed_only_by_a_skilled_member_below_their_daily_cap(api):
    spanish = SkillTagFactory(name="spanish")
    desk = TeamFactory(name="Spanish desk")
    unskilled = RepFactory(team=desk, name="No Spanish")
    capped = RepFactory(team=desk, name="Capped", daily_cap=0)
    able = RepFactory(team=desk, name="Able")
    for rep in (capped, able):
        RepSkillFactory(rep=rep, skill=spanish, proficiency=3)
    RuleFactory(name="Spanish pool", priority=10, pool_team=desk, strategy="pool", required_skills=[spanish])
    lead = post_and_route(api, external_id="ES-2", country="ES")
    assert (lead["status"], lead["owner"]) == ("pooled", None)
    with pytest.raises(RoutingError, match="No Spanish lacks a skill the rule requires"):
        lead_claim(lead_id=lead["id"], rep_id=unskilled.pk)
    with pytest.raises(RoutingError, match="Capped has reached their daily cap"):
        lead_claim(lead_id=lead["id"], rep_id=capped.pk)
    assert lead_claim(lead_id=lead["id"], rep_id=able.pk).rep_id == able.pk


@pytest.mark.parametrize("value", ["", "  ", ["airline", ""]])
def test_the_routing_file_refuses_an_empty_condition_value_and_points_to_is_empty(value):
    data = copy.deepcopy(PRODUCT_EXAMPLE)
    data["rules"][0]["conditions"][1].update(op="in" if isinstance(value, list) else "equals", value=value)
    with pytest.raises(RoutingFileError) as err:
        routing_config_load(data)
    assert err.value.messages == [
        'rules[0] "DACH airlines": conditions[1].value: A value may not be empty text; '
        'to match a lead whose fact is empty use "is_empty".'
    ]


def test_the_admin_refuses_an_empty_condition_value_and_points_to_is_empty(admin_client):
    rule = RuleFactory()
    before = RuleSet.current().version
    response = admin_client.post(
        reverse("admin:routing_rule_change", args=[rule.pk]),
        # The editor's text box left blank (spaces only): the stored value would be empty text.
        rule_form_data(rule, **condition_data(0, "industry", "equals", text="  ")),
    )
    assert response.status_code == 200
    assert (
        "A value may not be empty text; to match a lead whose fact is empty use “is_empty”."
        in response.content.decode()
    )
    assert RuleSet.current().version == before and not RuleCondition.objects.exists()
