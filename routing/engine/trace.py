"""The reason trace: why a lead went where it went, as stored on every Assignment (`reason`).

One shape for every decision, whoever made it. The engine writes it (`Decision.reason`); a hand
reassignment and a claim from a pool write it through `manual_trace` and `claim_trace`;
routing.reasons renders it in words for the admin, the API, e-mail and Slack. It is JSON: keys
are only ever added, and `version` says which shape a stored trace has.

Version 1 (the keys the renderer reads; `*_id` keys are for machines, names for people):

    {"version": 1, "outcome": "assigned" | "pooled" | "unroutable",
     "existing_owner"?: [{"rep", "rep_id", "via": "earlier_lead" | "account", "result"}],
     "rules": [                                   # in the order they were tried
        {"rule", "failed"},                       # a condition did not hold ("country equals DE")
        {"rule", "rule_id", "result", "rep"?, "rep_id"?, "strategy"?, "territory"?, "territory_id"?,
         "skipped"?: [{"rep", "rep_id", "reason"}],
         "territories"? | "widened_from"?: [{"territory", "territory_id"?, "skipped"}]}]}

A hand reassignment: {"version", "outcome": "assigned", "manual": true, "by", "rep", "rep_id",
"from", "from_status"}. A claim: {"version", "outcome": "assigned", "claimed": true, "rule",
"rule_id", "rep", "rep_id", "by"}. Traces stored before `version` existed have no such key
and read the same.
"""

from __future__ import annotations

from typing import NotRequired, TypedDict

TRACE_VERSION = 1


class SkippedRep(TypedDict):
    rep: str | int  # the rep's name (their id when they have none)
    rep_id: int
    reason: str  # one of vocabulary.REFUSALS (inactive, on_time_off, at_capacity, …), each with its words


class TerritoryLevel(TypedDict):
    territory: str | None
    territory_id: NotRequired[int]
    skipped: list[SkippedRep]


class RuleStep(TypedDict, total=False):
    rule: str
    rule_id: int
    failed: str  # the condition that did not hold; nothing else is said of such a rule
    result: str  # assigned, pooled, no_eligible_rep, empty_pool (+ "; held")
    rep: str | int
    rep_id: int
    strategy: str
    territory: str | None
    territory_id: int
    skipped: list[SkippedRep]
    territories: list[TerritoryLevel]  # a matched pool where nobody was eligible, level by level
    widened_from: list[TerritoryLevel]  # the levels tried before the one that decided


class OwnerStep(TypedDict):
    rep: str | int
    rep_id: int
    via: str  # earlier_lead, account
    result: str  # assigned, or why not


# "from" is a Python keyword, hence the functional form.
ReasonTrace = TypedDict(
    "ReasonTrace",
    {
        "version": int,
        "outcome": str,
        "rules": NotRequired[list[RuleStep]],
        "existing_owner": NotRequired[list[OwnerStep]],
        "manual": NotRequired[bool],
        "claimed": NotRequired[bool],
        "by": NotRequired[str],
        "rule": NotRequired[str],
        "rule_id": NotRequired[int],
        "rep": NotRequired[str],
        "rep_id": NotRequired[int],
        "from": NotRequired[str | None],
        "from_status": NotRequired[str],
    },
)


def engine_trace(outcome: str, rules: list[RuleStep], existing_owner: list[OwnerStep] | None = None) -> ReasonTrace:
    """The trace of an engine decision."""
    trace: ReasonTrace = {"version": TRACE_VERSION, "outcome": outcome}
    if existing_owner:
        trace["existing_owner"] = existing_owner
    trace["rules"] = rules
    return trace


def manual_trace(*, by: str, rep: str, rep_id: int, from_rep: str | None, from_status: str) -> ReasonTrace:
    """Ops gave the lead to `rep` by hand (from `from_rep`, or from nobody)."""
    return {
        "version": TRACE_VERSION,
        "outcome": "assigned",
        "manual": True,
        "by": by,
        "rep": rep,
        "rep_id": rep_id,
        "from": from_rep,
        "from_status": from_status,
    }


def claim_trace(*, rule: str, rule_id: int, rep: str, rep_id: int, by: str) -> ReasonTrace:
    """A pool member took the lead from the pool of `rule`."""
    return {
        "version": TRACE_VERSION,
        "outcome": "assigned",
        "claimed": True,
        "rule": rule,
        "rule_id": rule_id,
        "rep": rep,
        "rep_id": rep_id,
        "by": by,
    }
