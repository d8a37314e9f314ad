"""The database itself refuses bad territories, rules, conditions and assignments."""

import datetime as dt
from contextlib import contextmanager

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from leadops.tests.factories import LeadFactory
from reps.tests.factories import RepFactory
from routing.models import (
    Assignment,
    RepDailyCount,
    RotationCursor,
    Rule,
    RuleCondition,
    RulePoolRep,
    RuleSet,
    Territory,
)
from routing.tests.factories import (
    RuleConditionFactory,
    RuleFactory,
    RulePoolRepFactory,
    TerritoryFactory,
)

pytestmark = pytest.mark.django_db


@contextmanager
def rejected():
    """The row must be refused by the database; atomic keeps Postgres' transaction usable."""
    with pytest.raises(IntegrityError), transaction.atomic():
        yield


def test_territory_and_rule_names_are_unique():
    TerritoryFactory(name="DACH")
    RuleFactory(name="DACH airlines")
    with rejected():
        Territory.objects.create(name="DACH", countries=["DE"])
    with rejected():
        Rule.objects.create(name="DACH airlines")


@pytest.mark.parametrize("field, value", [("strategy", "random"), ("when_none_eligible", "drop")])
def test_rule_with_unknown_strategy_or_fallback_is_refused(field, value):
    with rejected():
        Rule.objects.create(name="Bad rule", **{field: value})


def test_condition_with_unknown_operator_is_refused():
    rule = RuleFactory()
    with rejected():
        RuleCondition.objects.create(rule=rule, field="country", op="inn", value=["DE"])


def test_a_rep_is_listed_once_in_a_rule_pool():
    entry = RulePoolRepFactory()
    with rejected():
        RulePoolRep.objects.create(rule=entry.rule, rep=entry.rep, position=2)


def test_assignment_to_a_rep_must_name_the_rep():
    lead = LeadFactory()
    with rejected():
        Assignment.objects.create(lead=lead, outcome="assigned", rep=None, created_at=timezone.now())


def test_unroutable_assignment_needs_no_rep():
    lead = LeadFactory(status="unroutable")
    assert Assignment.objects.create(lead=lead, outcome="unroutable", created_at=timezone.now()).pk


@pytest.mark.parametrize("field, value", [("outcome", "dropped"), ("decided_by", "robot")])
def test_assignment_with_unknown_outcome_or_decider_is_refused(field, value):
    lead, rep = LeadFactory(), RepFactory()
    fields = {"lead": lead, "rep": rep, "created_at": timezone.now(), field: value}
    with rejected():
        Assignment.objects.create(**fields)


def test_rotation_cursor_is_one_row_per_pool():
    RotationCursor.objects.create(pool_key="rule:1")
    with rejected():
        RotationCursor.objects.create(pool_key="rule:1")


def test_daily_count_is_one_row_per_rep_and_day():
    rep = RepFactory()
    RepDailyCount.objects.create(rep=rep, day=dt.date(2026, 11, 23), assigned=3)
    with rejected():
        RepDailyCount.objects.create(rep=rep, day=dt.date(2026, 11, 23), assigned=1)


def test_rule_set_is_a_single_row():
    assert RuleSet.current().pk == RuleSet.current().pk == 1
    assert RuleSet.objects.count() == 1


@pytest.mark.parametrize(
    "field, op, value, error_field, message",
    [
        ("colour", "equals", "red", "field", "is not a lead fact"),
        ("country", "inn", ["DE"], "op", "is not an operator"),
        ("country", "in", "DE", "value", "needs a list"),
        ("company_size", "between", [10], "value", "needs [low, high]"),
        ("score", "gte", "high", "value", "needs a number"),
        ("country", "in_territory", "", "value", "needs a territory name"),
    ],
)
def test_bad_condition_is_explained_in_ops_language(field, op, value, error_field, message):
    condition = RuleConditionFactory.build(rule=RuleFactory(), field=field, op=op, value=value)
    with pytest.raises(ValidationError) as err:
        condition.clean()
    assert message in str(err.value.message_dict[error_field])


def test_extra_fields_are_valid_condition_fields():
    RuleConditionFactory.build(rule=RuleFactory(), field="extra.campaign", op="equals", value="spring").clean()


def test_territory_cannot_sit_inside_itself():
    emea = TerritoryFactory(name="EMEA", countries=["DE", "FR"])
    dach = TerritoryFactory(name="DACH", parent=emea, countries=["DE"])
    emea.parent = dach
    with pytest.raises(ValidationError) as err:
        emea.clean()
    assert "inside itself" in str(err.value.message_dict["parent"])


def test_territory_countries_must_be_iso_codes():
    territory = TerritoryFactory.build(name="Nordics", countries=["SE", "Norway"])
    with pytest.raises(ValidationError) as err:
        territory.clean()
    assert "NORWAY" in str(err.value.message_dict["countries"])


def test_rule_pool_cannot_be_both_named_and_matched_territory():
    rule = RuleFactory.build(pool_territory=TerritoryFactory(), pool_matched_territory=True)
    with pytest.raises(ValidationError) as err:
        rule.clean()
    assert "not both" in str(err.value.message_dict["pool_territory"])
