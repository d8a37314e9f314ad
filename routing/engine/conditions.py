"""Rule conditions compiled once per batch into small closures.

Comparison choices (what ops expect when they type a value in the admin):
- strings compare case-insensitively and ignore surrounding spaces ("DE" == " de ");
- a numeric lead fact (score, company_size, annual_revenue, or a number in `extra`) compares
  numerically with the rule value ("50" == 50); a value that is not a number never matches
  `gte` / `lte` / `between`;
- an empty fact (None, "", blanks, empty list) matches only `is_empty`, `not_equals` and
  `not_in`;
- an empty rule value ("" or blanks) matches no lead: `equals ""` and `contains ""` never hold
  and `not_equals ""` always does (the admin and the routing file refuse such values and point
  to `is_empty`; `check_rules` names the ones stored before);
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

from .snapshot import Condition
from .territories import EngineConfigError, TerritoryIndex
from .vocabulary import LEAD_FACTS, TEXT_FACTS


@dataclass(slots=True)
class CompiledCondition:
    test: Callable[[Any], bool]
    text: str  # how the trace names it: "industry equals airline"
    index_field: str | None = None  # a text fact whose normalised value selects the rule
    index_keys: frozenset[str] = frozenset()
    # True: a lead whose value is one of the keys passes the condition (equals / in on text).
    # False: the keys only pre-select leads and the full test still runs (in_territory).
    index_exact: bool = True


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
        self.texts = frozenset(t for t in (norm_text(str(v)) for v in values if v is not None) if t)
        self.numbers = frozenset(n for n in (_as_number(v) for v in values) if n is not None)

    def has(self, v) -> bool:
        if isinstance(v, str):
            return v.strip().casefold() in self.texts
        n = _as_number(v)
        if n is not None:
            return n in self.numbers
        return norm_text(str(v)) in self.texts


Compiler = Callable[[Condition, TerritoryIndex], CompiledCondition]


def _text(cond: Condition) -> str:
    return f"{cond.field} {cond.op} {cond.value}"


def _equals_or_in(cond: Condition, territories: TerritoryIndex) -> CompiledCondition:
    get, values = accessor(cond.field), _as_list(cond.value) if cond.op == "in" else [cond.value]
    vs = _ValueSet(values)
    has = vs.has

    def test(lead):
        v = get(lead)
        return v is not None and has(v)

    # Text facts compared with text values are indexed: the lead's normalised value picks the rule.
    if cond.field in TEXT_FACTS and all(isinstance(v, str) for v in values):
        return CompiledCondition(test, _text(cond), cond.field, vs.texts)
    return CompiledCondition(test, _text(cond))


def _not_equals_or_not_in(cond: Condition, territories: TerritoryIndex) -> CompiledCondition:
    get = accessor(cond.field)
    has = _ValueSet(_as_list(cond.value) if cond.op == "not_in" else [cond.value]).has

    def test(lead):
        v = get(lead)
        return _is_empty(v) or not has(v)

    return CompiledCondition(test, _text(cond))


def _contains(cond: Condition, territories: TerritoryIndex) -> CompiledCondition:
    get = accessor(cond.field)
    needle = norm_text(str(cond.value)) if cond.value is not None else ""

    def test(lead):
        if not needle:
            return False
        v = get(lead)
        if isinstance(v, str):
            return needle in v.casefold()
        if isinstance(v, (list, tuple, set)):
            return any(norm_text(str(x)) == needle for x in v)
        return v is not None and needle in norm_text(str(v))

    return CompiledCondition(test, _text(cond))


def _starts_with(cond: Condition, territories: TerritoryIndex) -> CompiledCondition:
    get = accessor(cond.field)
    prefixes = tuple(t for t in (norm_text(str(p)) for p in _as_list(cond.value)) if t)

    def test(lead):
        v = get(lead)
        return bool(prefixes) and v is not None and norm_text(str(v)).startswith(prefixes)

    return CompiledCondition(test, _text(cond))


def _bounds(cond: Condition) -> tuple[float | None, float | None]:
    """(low, high) of gte / lte / between; a missing bound is None."""
    if cond.op == "between":
        bounds = _as_list(cond.value)
        if len(bounds) != 2:
            raise EngineConfigError(f"{cond.field} between needs [low, high], got {cond.value!r}")
        low, high = (_as_number(b) for b in bounds)
        if low is None or high is None:
            raise EngineConfigError(f"{cond.field} between needs a number, got {cond.value!r}")
        return low, high
    n = _as_number(cond.value)
    if n is None:
        raise EngineConfigError(f"{cond.field} {cond.op} needs a number, got {cond.value!r}")
    return (n, None) if cond.op == "gte" else (None, n)


def _in_range(cond: Condition, territories: TerritoryIndex) -> CompiledCondition:
    get = accessor(cond.field)
    low, high = _bounds(cond)

    def test(lead):
        n = _as_number(get(lead))
        if n is None:
            return False
        return (low is None or n >= low) and (high is None or n <= high)

    return CompiledCondition(test, _text(cond))


def _is_empty_op(cond: Condition, territories: TerritoryIndex) -> CompiledCondition:
    get, value = accessor(cond.field), cond.value
    # true, null or any text but "false" / "0" / "no" ask for an empty fact; false asks for a filled one
    want_empty = (
        value is None or value is True or (isinstance(value, str) and value.strip().lower() not in ("false", "0", "no"))
    )

    def test(lead):
        return _is_empty(get(lead)) == want_empty

    return CompiledCondition(test, f"{cond.field} {'is_empty' if want_empty else 'is_not_empty'}")


def _in_territory(cond: Condition, territories: TerritoryIndex) -> CompiledCondition:
    tid = territories.resolve(cond.value)
    locate = territories.locate

    def test(lead):
        return tid in locate(lead.country, lead.region, lead.postal_code)[1]

    # Keyed on the countries of the territory's subtree: a pre-filter only, region and postal
    # prefix are judged by the test.
    countries = frozenset(territories.subtree_countries[tid])
    return CompiledCondition(test, f"in_territory {territories.by_id[tid].name}", "country", countries, False)


def _email_domain_in(cond: Condition, territories: TerritoryIndex) -> CompiledCondition:
    """The lead's domain or a parent domain of it is listed (eu.acme.com is in acme.com)."""
    domains = frozenset(d for d in (norm_text(str(d)).lstrip("@") for d in _as_list(cond.value)) if d)

    def test(lead):
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

    return CompiledCondition(test, f"email_domain_in {', '.join(sorted(domains))}")


# One small compiler per operator of the vocabulary (a test pins that none is missing).
COMPILERS: dict[str, Compiler] = {
    "equals": _equals_or_in,
    "in": _equals_or_in,
    "not_equals": _not_equals_or_not_in,
    "not_in": _not_equals_or_not_in,
    "contains": _contains,
    "starts_with": _starts_with,
    "gte": _in_range,
    "lte": _in_range,
    "between": _in_range,
    "is_empty": _is_empty_op,
    "in_territory": _in_territory,
    "email_domain_in": _email_domain_in,
}


def compile_condition(cond: Condition, territories: TerritoryIndex) -> CompiledCondition:
    compiler = COMPILERS.get(cond.op)
    if compiler is None:
        raise EngineConfigError(f"unknown operator {cond.op!r} on {cond.field!r}")
    return compiler(cond, territories)
