"""One vocabulary: lead facts, operators and strategies are declared once, in the engine."""

from dataclasses import fields

import pytest

from routing.engine import (
    COMPILERS,
    LEAD_FACT_LABELS,
    LEAD_FACTS,
    OPERATOR_LABELS,
    OPERATORS,
    STRATEGIES,
    STRATEGY_LABELS,
    WHEN_NONE_ELIGIBLE_LABELS,
    LeadFacts,
    email_domain,
)
from routing.models import LEAD_FACT_FIELDS, Operator, RuleCondition, Strategy, WhenNoneEligible
from routing.services.snapshot import LEAD_FACT_COLUMNS


def test_the_models_choices_are_the_engines_vocabulary_with_its_labels():
    assert Strategy.choices == list(STRATEGY_LABELS.items())
    assert Operator.choices == list(OPERATOR_LABELS.items())
    assert WhenNoneEligible.choices == list(WHEN_NONE_ELIGIBLE_LABELS.items())
    assert LEAD_FACT_FIELDS == list(LEAD_FACTS) == list(LEAD_FACT_LABELS)
    assert RuleCondition._meta.get_field("op").choices == list(OPERATOR_LABELS.items())


def test_product_md_names_every_operator_and_strategy():
    assert OPERATORS == (
        "equals",
        "not_equals",
        "in",
        "not_in",
        "contains",
        "starts_with",
        "gte",
        "lte",
        "between",
        "is_empty",
        "in_territory",
        "email_domain_in",
    )
    assert STRATEGIES == ("round_robin", "weighted", "load_balanced", "skill_score", "performance", "direct", "pool")


def test_every_operator_has_a_compiler_and_every_fact_a_field_the_engine_reads():
    assert set(COMPILERS) == set(OPERATORS)
    lead_fields = [f.name for f in fields(LeadFacts)]
    assert lead_fields[1 : 1 + len(LEAD_FACTS)] == list(LEAD_FACTS)
    assert LEAD_FACT_COLUMNS[1 : 1 + len(LEAD_FACTS)] == LEAD_FACTS


@pytest.mark.parametrize(
    "email, domain",
    [
        ("ana@acme.com", "acme.com"),
        ("Ana@EU.Acme.com ", "eu.acme.com"),
        ("odd@name@acme.com", "acme.com"),
        ("no-at-sign", ""),
        ("", ""),
        (None, ""),
    ],
)
def test_email_domain_is_derived_in_one_place(email, domain):
    assert email_domain(email) == domain
    assert LeadFacts(id=1, email=email or "").email_domain == domain
