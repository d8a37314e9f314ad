"""The routing map: the active rules in the order the engine tries them, each with its pool now.

A read for the admin's map page. Pools come from the engine itself (RoutingEngine.pool_rep_ids on
a snapshot of now), eligibility from the engine's refusal checks, marks from rule_health. Nothing
here decides a lead.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Subquery
from django.db.models.functions import Coalesce

from routing.engine import LeadFacts, RoutingEngine, rep_has_skills, rep_load_refusal, rep_static_refusal
from routing.models import Rule
from routing.reasons import condition_words, strategy_label
from routing.rule_health import rule_health_findings
from routing.selectors import rule_decision_counts
from routing.services.snapshot import routing_snapshot_load


@dataclass
class MapRule:
    rule: Rule
    conditions: list[str]
    strategy: str
    fallback: str
    decisions_7d: int
    pool_size: int | None  # None: a "matched territory" pool, which depends on the lead's place
    eligible_now: int | None
    marks: list[str] = field(default_factory=list)


def routing_map(*, now: dt.datetime) -> tuple[list[MapRule], int]:
    """The active rules in priority order as MapRule rows, and how many rules are inactive."""
    rules = list(
        Rule.objects.active()
        .in_priority_order()
        .select_related("pool_team", "pool_territory")
        .prefetch_related("conditions")
        .annotate(decisions_7d=Coalesce(Subquery(rule_decision_counts(since=now - dt.timedelta(days=7))), 0))
    )
    snapshot, _ = routing_snapshot_load(now=now, leads=[])
    engine = RoutingEngine(snapshot)
    specs = {spec.id: spec for spec in snapshot.rules}
    marks: dict[str, list[str]] = {}
    for finding in rule_health_findings(now=now):
        marks.setdefault(finding.subject, []).append(finding.message)
    nowhere = LeadFacts(id=0)
    rows = []
    for rule in rules:
        size = eligible = None
        if not rule.pool_matched_territory:
            members = [snapshot.reps[rid] for rid in engine.pool_rep_ids(rule.id, nowhere) if rid in snapshot.reps]
            required = specs[rule.id].required_skill_ids if rule.id in specs else frozenset()
            size = len(members)
            eligible = sum(
                1
                for rep in members
                if rep_static_refusal(rep, now) is None
                and rep_load_refusal(rep) is None
                and rep_has_skills(rep, required)
            )
        rows.append(
            MapRule(
                rule=rule,
                conditions=[condition_words(c.field, c.op, c.value) for c in rule.conditions.all()],
                strategy=strategy_label(rule.strategy),
                fallback=rule.get_when_none_eligible_display(),
                decisions_7d=rule.decisions_7d,
                pool_size=size,
                eligible_now=eligible,
                marks=marks.get(f"rule “{rule.name}”", []),
            )
        )
    return rows, Rule.objects.filter(active=False).count()
