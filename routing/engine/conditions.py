"""Rule conditions compiled once per batch into small closures.

Comparison choices (what ops expect when they type a value in the admin):
- strings compare case-insensitively and ignore surrounding spaces ("DE" == " de ");
- a numeric lead fact (score, company_size, annual_revenue, or a number in `extra`) compares
  numerically with the rule value ("50" == 50); a value that is not a number never matches
  `gte` / `lte` / `between`;
- an empty fact (None, "", blanks, empty list) matches only `is_empty`, `not_equals` and
  `not_in`;
- `contains` on a list fact (e.g. `extra.tags`) means "one element equals";
- `starts_with` and `in`, `not_in`, `email_domain_in` accept one value or a list;
- `email_domain_in` matches the domain or any sub-domain of it (eu.acme.com is in acme.com);
- `in_territory` looks at the lead's country / region / postal code, whatever `field` says.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from operator import attrgetter
from typing import Any

from .snapshot import LEAD_FACTS, Condition
from .territories import EngineConfigError, TerritoryIndex

OPERATORS = (
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
# Facts that hold text: only these are used to index rules (numbers compare numerically).
TEXT_FACTS = frozenset(LEAD_FACTS) - {"company_size", "annual_revenue", "score"}


@dataclass(slots=True)
class CompiledCondition:
    test: Callable[[Any], bool]
    text: str  # how the trace names it: "industry equals airline"
    index_field: str | None = None  # a text fact whose normalised value selects the rule
    index_keys: frozenset[str] = frozenset()


def norm_text(value) -> str:
    return value.strip().casefold()


def _as_number(value):
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float, Decimal)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return None
    return None


def _is_empty(value) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, (list, tuple, set, dict)):
        return not value
    return False


def _as_list(value) -> list:
    if value is None:
        return []
    if isinstance(value, (list, tuple, set, frozenset)):
        return list(value)
    return [value]


def accessor(field: str) -> Callable[[Any], Any]:
    if field.startswith("extra."):
        key = field[len("extra.") :]
        return lambda lead: lead.extra.get(key)
    if field not in LEAD_FACTS:
        raise EngineConfigError(f"unknown lead fact {field!r}")
    return attrgetter(field)


class _ValueSet:
    """A set of rule values matched either as text or as numbers."""

    __slots__ = ("texts", "numbers")

    def __init__(self, values):
        self.texts = frozenset(norm_text(str(v)) for v in values if v is not None)
        self.numbers = frozenset(n for n in (_as_number(v) for v in values) if n is not None)

    def has(self, v) -> bool:
        if isinstance(v, str):
            return v.strip().casefold() in self.texts
        n = _as_number(v)
        if n is not None:
            return n in self.numbers
        return norm_text(str(v)) in self.texts


def compile_condition(cond: Condition, territories: TerritoryIndex) -> CompiledCondition:
    op, field, value = cond.op, cond.field, cond.value
    if op not in OPERATORS:
        raise EngineConfigError(f"unknown operator {op!r} on {field!r}")
    if op == "in_territory":
        tid = territories.resolve(value)
        name = territories.by_id[tid].name
        locate = territories.locate

        def in_territory(lead):
            return tid in locate(lead.country, lead.region, lead.postal_code)[1]

        return CompiledCondition(
            in_territory,
            f"in_territory {name}",
            "country",
            frozenset(territories.subtree_countries[tid]),
        )

    get = accessor(field)
    text = f"{field} {op} {value}" if op != "is_empty" else f"{field} is_empty"
    indexable = field in TEXT_FACTS

    if op in ("equals", "in", "not_equals", "not_in"):
        values = _as_list(value) if op in ("in", "not_in") else [value]
        vs = _ValueSet(values)
        has = vs.has
        if op in ("equals", "in"):

            def test(lead):
                v = get(lead)
                return v is not None and has(v)

            index_ok = indexable and all(isinstance(v, str) for v in values)
            return CompiledCondition(test, text, field if index_ok else None, vs.texts if index_ok else frozenset())

        def test_not(lead):
            v = get(lead)
            return _is_empty(v) or not has(v)

        return CompiledCondition(test_not, text)

    if op == "contains":
        needle = norm_text(str(value))

        def contains(lead):
            v = get(lead)
            if isinstance(v, str):
                return needle in v.casefold()
            if isinstance(v, (list, tuple, set)):
                return any(norm_text(str(x)) == needle for x in v)
            return v is not None and needle in norm_text(str(v))

        return CompiledCondition(contains, text)

    if op == "starts_with":
        prefixes = tuple(norm_text(str(p)) for p in _as_list(value))

        def starts_with(lead):
            v = get(lead)
            return v is not None and norm_text(str(v)).startswith(prefixes)

        return CompiledCondition(starts_with, text)

    if op in ("gte", "lte", "between"):
        if op == "between":
            bounds = _as_list(value)
            if len(bounds) != 2:
                raise EngineConfigError(f"{field} between needs [low, high], got {value!r}")
            low, high = (_as_number(b) for b in bounds)
        else:
            low = _as_number(value) if op == "gte" else None
            high = _as_number(value) if op == "lte" else None
        if (
            (op == "gte" and low is None)
            or (op == "lte" and high is None)
            or (op == "between" and (low is None or high is None))
        ):
            raise EngineConfigError(f"{field} {op} needs a number, got {value!r}")

        def in_range(lead):
            n = _as_number(get(lead))
            if n is None:
                return False
            return (low is None or n >= low) and (high is None or n <= high)

        return CompiledCondition(in_range, text)

    if op == "is_empty":
        want_empty = (
            value is None
            or value is True
            or (isinstance(value, str) and value.strip().lower() not in ("false", "0", "no"))
        )

        def is_empty(lead):
            return _is_empty(get(lead)) == want_empty

        return CompiledCondition(is_empty, text if want_empty else f"{field} is_not_empty")

    # email_domain_in: the lead's domain or a parent domain of it is listed.
    domains = frozenset(norm_text(str(d)).lstrip("@") for d in _as_list(value))

    def email_domain_in(lead):
        d = lead.email_domain
        if not d:
            return False
        d = d.strip().casefold()
        while True:
            if d in domains:
                return True
            dot = d.find(".")
            if dot < 0:
                return False
            d = d[dot + 1 :]

    return CompiledCondition(email_domain_in, f"email_domain_in {', '.join(sorted(domains))}")
