"""Rule health (PRODUCT.md "Beyond the anchors"): what in the routing set-up cannot work as ops think.

Reads only. Each finding names the rule or territory and says what is wrong in ops words:
- a rule shadowed by a higher active rule whose conditions are a subset of its own (no
  conditions, or the same ones): every lead it could take is taken first;
- a pool that is empty, all inactive, all at capacity, or where nobody has the required skills;
- a condition naming a territory that does not exist;
- a condition that cannot work as meant: an empty-text value (stored before the admin and the
  routing file refused them) or a `between` whose low end is above its high end;
- two territories, neither inside the other, that cover the same place;
- countries leads came from in the last 90 days that no territory covers.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

from django.utils import timezone

from leadops.models import Lead
from reps.models import Rep
from routing.engine import TerritoryTree
from routing.models import Operator, Rule, Strategy, Territory, WhenNoneEligible, has_empty_text
from routing.selectors import rep_open_lead_counts

LEAD_COUNTRY_WINDOW = dt.timedelta(days=90)


@dataclass(frozen=True)
class Finding:
    kind: str  # shadowed, pool, unknown_territory, condition, overlap, uncovered
    subject: str
    message: str

    def __str__(self) -> str:
        return f"[{self.kind}] {self.subject}: {self.message}"


def _condition_keys(rule: Rule) -> frozenset:
    return frozenset((c.field, c.op, json.dumps(c.value, sort_keys=True)) for c in rule.conditions.all())


def _descendants(territories: list[Territory]) -> dict[int, set[int]]:
    """Territory id → itself and every territory inside it."""
    tree = TerritoryTree({t.pk: t.parent_id for t in territories})
    return {t.pk: set(tree.descendants_or_self(t.pk)) for t in territories}


def _shadowing(rules: list[Rule]) -> list[Finding]:
    findings = []
    for i, rule in enumerate(rules):
        mine = _condition_keys(rule)
        for higher in rules[:i]:
            if _condition_keys(higher) <= mine:
                why = "has no conditions" if not higher.conditions.all() else "has the same or fewer conditions"
                if higher.when_none_eligible == WhenNoneEligible.HOLD or higher.strategy == Strategy.POOL:
                    reach = "no lead can reach it"
                else:
                    reach = f"it only gets leads when nobody in “{higher.name}”'s pool is eligible"
                findings.append(
                    Finding(
                        "shadowed",
                        f"rule “{rule.name}”",
                        f"higher rule “{higher.name}” (priority {higher.priority}) {why}; {reach}",
                    )
                )
                break
    return findings


def _pools(
    rules: list[Rule], reps: dict[int, Rep], territory_reps: dict[int, set[int]], below: dict[int, set[int]]
) -> list[Finding]:
    open_leads = rep_open_lead_counts()
    findings = []
    for rule in rules:
        if rule.pool_matched_territory:
            members = set().union(*territory_reps.values()) if territory_reps else set()
        else:
            members = {entry.rep_id for entry in rule.pool_entries.all()}
            members |= {rep.pk for rep in reps.values() if rule.pool_team_id and rep.team_id == rule.pool_team_id}
            if rule.pool_territory_id:
                for tid in below.get(rule.pool_territory_id, ()):
                    members |= territory_reps.get(tid, set())
        subject = f"rule “{rule.name}”"
        active = [reps[r] for r in members if reps[r].active]
        required = {s.pk for s in rule.required_skills.all()}
        if not members:
            findings.append(Finding("pool", subject, "its pool is empty: list reps, a team or a territory with reps"))
        elif not active:
            findings.append(Finding("pool", subject, "every rep in its pool is inactive"))
        elif required and not any(required <= {rs.skill_id for rs in rep.rep_skills.all()} for rep in active):
            names = ", ".join(sorted(s.name for s in rule.required_skills.all()))
            message = f"no active rep in its pool has all the required skills ({names})"
            if rule.strategy == Strategy.POOL:
                message += "; nobody could claim its leads, so it never pools one"
            findings.append(Finding("pool", subject, message))
        elif all(open_leads.get(rep.pk, 0) >= rep.capacity for rep in active):
            findings.append(Finding("pool", subject, "every active rep in its pool is at capacity"))
    return findings


def _never_holds(cond) -> str | None:
    """Why a stored condition cannot work as ops meant it (None when it can)."""
    value = cond.value
    if cond.op not in (Operator.IS_EMPTY, Operator.IN_TERRITORY) and has_empty_text(value):
        always = cond.op in (Operator.NOT_EQUALS, Operator.NOT_IN)
        return (
            f"compares with empty text, which matches no lead, so it {'always' if always else 'never'} holds; "
            "to test for a missing fact use “is empty”"
        )
    if cond.op == Operator.BETWEEN and isinstance(value, list) and len(value) == 2:
        low, high = value
        numbers = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)
        if numbers and low > high:
            return f"can never hold: its low end {low} is above its high end {high}"
    return None


def _conditions(rules: list[Rule], territory_names: set[str]) -> list[Finding]:
    findings = []
    for rule in rules:
        for cond in rule.conditions.all():
            words = f"{cond.field} {cond.get_op_display()} {json.dumps(cond.value, ensure_ascii=False)}"
            if cond.op == Operator.IN_TERRITORY and cond.value not in territory_names:
                findings.append(
                    Finding(
                        "unknown_territory",
                        f"rule “{rule.name}”",
                        f"condition “{cond.field} is in territory {cond.value}” names no territory",
                    )
                )
            why = _never_holds(cond)
            if why:
                findings.append(Finding("condition", f"rule “{rule.name}”", f"condition “{words}” {why}"))
    return findings


def _covers(a: Territory, b: Territory) -> set[str]:
    """Countries where a and b both match some lead (regions and postal prefixes taken into account)."""
    shared = set(a.countries) & set(b.countries)
    if not shared:
        return set()
    if a.regions and b.regions and not set(a.regions) & set(b.regions):
        return set()
    if (
        a.postal_prefixes
        and b.postal_prefixes
        and not any(p.startswith(q) or q.startswith(p) for p in a.postal_prefixes for q in b.postal_prefixes)
    ):
        return set()
    return shared


def _overlaps(territories: list[Territory], below: dict[int, set[int]]) -> list[Finding]:
    findings = []
    for i, a in enumerate(territories):
        for b in territories[i + 1 :]:
            if b.pk in below[a.pk] or a.pk in below[b.pk]:
                continue  # nesting is how territories are meant to overlap
            shared = _covers(a, b)
            if shared:
                findings.append(
                    Finding(
                        "overlap",
                        f"territories “{a.name}” and “{b.name}”",
                        f"both cover {', '.join(sorted(shared))}; neither sits inside the other",
                    )
                )
    return findings


def rule_health_findings(*, now: dt.datetime | None = None) -> list[Finding]:
    """Every problem found in the active rules, their pools and the territories, in a stable order."""
    now = now or timezone.now()
    territories = list(Territory.objects.order_by("name"))
    below = _descendants(territories)
    names = {t.name for t in territories}
    reps = {rep.pk: rep for rep in Rep.objects.prefetch_related("rep_skills")}
    territory_reps: dict[int, set[int]] = {}
    for rep_id, territory_id in Rep.territories.through.objects.values_list("rep_id", "territory_id"):
        territory_reps.setdefault(territory_id, set()).add(rep_id)
    rules = list(
        Rule.objects.active().in_priority_order().prefetch_related("conditions", "pool_entries", "required_skills")
    )
    findings = _shadowing(rules)
    findings += _pools(rules, reps, territory_reps, below)
    findings += _conditions(rules, names)
    findings += _overlaps(territories, below)
    covered = {c for t in territories for c in t.countries}
    seen = set(
        Lead.objects.filter(created_at__gte=now - LEAD_COUNTRY_WINDOW)
        .exclude(country="")
        .values_list("country", flat=True)
        .distinct()
    )
    for country in sorted(seen - covered):
        findings.append(
            Finding("uncovered", f"country {country}", "leads came from it in the last 90 days; no territory covers it")
        )
    return findings
