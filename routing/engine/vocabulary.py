"""The routing vocabulary, declared once: lead facts, operators, strategies, fallbacks, refusals.

Each name is spelled as in PRODUCT.md (API fields, import columns, the routing file) and
carries the words ops read in the admin. The models' choices (routing.models `Strategy`,
`Operator`, `WhenNoneEligible`, `LEAD_FACT_FIELDS`) are built from these dicts, and the
engine compiles exactly these operators and strategies.
"""

from __future__ import annotations

# Lead facts a condition may test (besides `extra.<key>`), in the order PRODUCT.md lists them.
LEAD_FACT_LABELS: dict[str, str] = {
    "email": "Email",
    "email_domain": "Email domain",
    "first_name": "First name",
    "last_name": "Last name",
    "phone": "Phone",
    "company": "Company",
    "industry": "Industry",
    "company_size": "Company size (employees)",
    "annual_revenue": "Annual revenue",
    "country": "Country",
    "region": "Region",
    "city": "City",
    "postal_code": "Postal code",
    "product_interest": "Product interest",
    "source": "Source",
    "score": "Score",
    "language": "Language",
}
LEAD_FACTS: tuple[str, ...] = tuple(LEAD_FACT_LABELS)
NUMBER_FACTS = frozenset({"company_size", "annual_revenue", "score"})
TEXT_FACTS = frozenset(LEAD_FACTS) - NUMBER_FACTS
EXTRA_PREFIX = "extra."

OPERATOR_LABELS: dict[str, str] = {
    "equals": "equals",
    "not_equals": "does not equal",
    "in": "is one of",
    "not_in": "is none of",
    "contains": "contains",
    "starts_with": "starts with",
    "gte": "≥",
    "lte": "≤",
    "between": "between",
    "is_empty": "is empty",
    "in_territory": "is in territory",
    "email_domain_in": "email domain is one of",
}
OPERATORS: tuple[str, ...] = tuple(OPERATOR_LABELS)
LIST_OPERATORS = frozenset({"in", "not_in", "email_domain_in"})  # their value is a list

ROUND_ROBIN = "round_robin"
WEIGHTED = "weighted"
LOAD_BALANCED = "load_balanced"
SKILL_SCORE = "skill_score"
PERFORMANCE = "performance"
DIRECT = "direct"
POOL = "pool"
STRATEGY_LABELS: dict[str, str] = {
    ROUND_ROBIN: "Round robin",
    WEIGHTED: "Weighted round robin",
    LOAD_BALANCED: "Load balanced",
    SKILL_SCORE: "Best skill match",
    PERFORMANCE: "By conversion rate",
    DIRECT: "Direct to named reps",
    POOL: "Team pool (claim)",
}
STRATEGIES: tuple[str, ...] = tuple(STRATEGY_LABELS)

NEXT_RULE = "next_rule"
HOLD = "hold"
WHEN_NONE_ELIGIBLE_LABELS: dict[str, str] = {
    NEXT_RULE: "Try the next rule",
    HOLD: "Hold the lead in the pool",
}


# Why a rep was passed over (a reason trace's `skipped`, a refused claim), with the words ops read.
INACTIVE = "inactive"
ON_TIME_OFF = "on_time_off"
AT_CAPACITY = "at_capacity"
DAILY_CAP_REACHED = "daily_cap_reached"
OUTSIDE_WORKING_HOURS = "outside_working_hours"
MISSING_SKILL = "missing_skill"
EXCLUDED = "excluded"  # the lead was sent back by this rep (misrouted / released)
ZERO_WEIGHT = "zero_weight"  # weighted strategy, weight 0: paused from rotation
CLAIM_LIMIT_REACHED = "claim_limit_reached"
REFUSAL_LABELS: dict[str, str] = {
    INACTIVE: "inactive",
    ON_TIME_OFF: "on time off",
    AT_CAPACITY: "at capacity",
    DAILY_CAP_REACHED: "daily cap reached",
    OUTSIDE_WORKING_HOURS: "outside working hours",
    MISSING_SKILL: "missing a required skill",
    EXCLUDED: "sent this lead back before",
    ZERO_WEIGHT: "weight 0, paused from the rotation",
    CLAIM_LIMIT_REACHED: "claim limit reached",
}
REFUSALS: tuple[str, ...] = tuple(REFUSAL_LABELS)


def is_lead_fact(field: str) -> bool:
    """A name a condition may test: a lead fact or `extra.<key>`."""
    return field in LEAD_FACT_LABELS or (field.startswith(EXTRA_PREFIX) and len(field) > len(EXTRA_PREFIX))


def email_domain(email: str | None) -> str:
    """The domain of an e-mail address, lower-cased ("" when there is none): ana@EU.Acme.com → eu.acme.com.

    The one derivation of `email_domain`: intake, the import, the engine and the tests use it.
    """
    if not email or "@" not in email:
        return ""
    return email.rsplit("@", 1)[1].strip().lower()
