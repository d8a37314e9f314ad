"""Load the routing set-up and the reps' live load into the engine's plain dataclasses.

A fixed number of queries whatever the batch size: the set-up (rules and their parts,
territories, reps' territories and skills, conversion rates) once per call, then per batch
the rule-set row, reps, time off, open-lead counts, today's counts, cursors and the
existing-owner look-ups for the batch's emails and domains.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.db.models import Q

from leadops.models import Account, Lead
from reps.models import Rep, RepSkill, TimeOff
from routing import selectors
from routing.engine import (
    LEAD_FACTS,
    MATCHED,
    Condition,
    LeadFacts,
    PoolCursor,
    RepState,
    RoutingSnapshot,
    RuleSetSettings,
    RuleSpec,
    TerritorySpec,
    WorkingHours,
)
from routing.models import RotationCursor, Rule, RuleCondition, RulePoolRep, RuleSet, Territory

PERFORMANCE_WINDOW = dt.timedelta(days=90)

# Lead columns a batch reads: LeadFacts' own fields in their order, then the lead's state.
LEAD_FACT_COLUMNS = ("id", *LEAD_FACTS, "extra", "status", "pool_rule_id")


def _time(text: str) -> dt.time:
    hours, minutes = (int(p) for p in str(text).split(":"))
    return dt.time.max if hours >= 24 else dt.time(hours, minutes)


def routing_working_hours(value) -> WorkingHours | None:
    """A rep's stored working hours (the routing-file shape) as the engine's WorkingHours, or None."""
    if not value:
        return None
    return WorkingHours(_time(value["start"]), _time(value["end"]), frozenset(value.get("days") or (1, 2, 3, 4, 5)))


def lead_facts(lead: Lead, excluded: set[int] | None = None) -> LeadFacts:
    return LeadFacts(
        id=lead.id,
        email=lead.email,
        email_domain=lead.email_domain,
        first_name=lead.first_name,
        last_name=lead.last_name,
        phone=lead.phone,
        company=lead.company,
        industry=lead.industry,
        company_size=lead.company_size,
        annual_revenue=lead.annual_revenue,
        country=lead.country,
        region=lead.region,
        city=lead.city,
        postal_code=lead.postal_code,
        product_interest=lead.product_interest,
        source=lead.source,
        score=lead.score,
        language=lead.language,
        extra=lead.extra,
        excluded_rep_ids=frozenset(excluded or ()),
    )


def _rules() -> list[RuleSpec]:
    conditions = defaultdict(list)
    for c in RuleCondition.objects.filter(rule__active=True).order_by("rule_id", "position", "id"):
        conditions[c.rule_id].append(Condition(c.field, c.op, c.value))
    listed = defaultdict(list)
    for rule_id, rep_id in (
        RulePoolRep.objects.filter(rule__active=True)
        .order_by("rule_id", "position", "id")
        .values_list("rule_id", "rep_id")
    ):
        listed[rule_id].append(rep_id)
    required, preferred = defaultdict(set), defaultdict(set)
    for through, into in ((Rule.required_skills.through, required), (Rule.preferred_skills.through, preferred)):
        for rule_id, skill_id in through.objects.filter(rule__active=True).values_list("rule_id", "skilltag_id"):
            into[rule_id].add(skill_id)
    specs = []
    for rule in Rule.objects.active().in_priority_order():
        specs.append(
            RuleSpec(
                id=rule.id,
                name=rule.name,
                priority=rule.priority,
                conditions=conditions[rule.id],
                rep_ids=listed[rule.id],
                team_id=rule.pool_team_id,
                territory_id=MATCHED if rule.pool_matched_territory else rule.pool_territory_id,
                required_skill_ids=frozenset(required[rule.id]),
                preferred_skill_ids=frozenset(preferred[rule.id]),
                strategy=rule.strategy,
                when_none_eligible=rule.when_none_eligible,
                requires_working_hours=rule.requires_working_hours,
                claim_limit=rule.claim_limit,
            )
        )
    return specs


def _territories() -> list[TerritorySpec]:
    return [
        TerritorySpec(
            t.id,
            t.name,
            t.parent_id,
            frozenset(c.upper() for c in t.countries),
            frozenset(t.regions),
            tuple(t.postal_prefixes),
        )
        for t in Territory.objects.all()
    ]


@dataclass
class RoutingSetup:
    """The slow-changing part of a snapshot, read once and reused by the batches of one call.

    Reloaded when the rule-set version moves. Rep rows, time off and every counter are read
    again for each batch (they change all the time and decide capacity).
    """

    version: int
    existing_owner_first: bool
    rules: list[RuleSpec]
    territories: list[TerritorySpec]
    rep_territories: dict[int, frozenset[int]]
    rep_skills: dict[int, dict[int, int]]
    conversion_rates: dict[int, float]
    # rule id -> SLA minutes, for rules with an SLA (the writer stamps sla_due_at; the engine never reads it)
    rule_sla_minutes: dict[int, int] = field(default_factory=dict)


def routing_setup_load(*, now: dt.datetime, rule_set: RuleSet) -> RoutingSetup:
    rules = _rules()
    territories = defaultdict(set)
    for rep_id, territory_id in Rep.territories.through.objects.values_list("rep_id", "territory_id"):
        territories[rep_id].add(territory_id)
    skills = defaultdict(dict)
    for rep_id, skill_id, level in RepSkill.objects.values_list("rep_id", "skill_id", "proficiency"):
        skills[rep_id][skill_id] = level
    with_conversion = any(r.strategy == "performance" for r in rules)
    return RoutingSetup(
        version=rule_set.version,
        existing_owner_first=rule_set.existing_owner_first,
        rules=rules,
        territories=_territories(),
        rep_territories={k: frozenset(v) for k, v in territories.items()},
        rep_skills=dict(skills),
        conversion_rates=selectors.rep_conversion_rates(since=now - PERFORMANCE_WINDOW) if with_conversion else {},
        rule_sla_minutes=dict(Rule.objects.active().filter(sla_minutes__isnull=False).values_list("id", "sla_minutes")),
    )


def _reps(now: dt.datetime, setup: RoutingSetup) -> dict[int, RepState]:
    time_off = defaultdict(list)
    for rep_id, start, end in TimeOff.objects.filter(start__lte=now, end__gt=now).values_list("rep_id", "start", "end"):
        time_off[rep_id].append((start, end))
    rows = list(
        Rep.objects.order_by("id").values_list(
            "id",
            "name",
            "active",
            "team_id",
            "capacity",
            "daily_cap",
            "weight",
            "timezone",
            "working_hours",
            "last_assigned_at",
        )
    )
    open_counts = selectors.rep_open_lead_counts()
    days = {row[0]: selectors.rep_local_day(row[7], now) for row in rows}
    today = selectors.rep_assigned_today_counts(rep_days=days)
    reps = {}
    for rep_id, name, active, team_id, capacity, daily_cap, weight, tz, hours, last in rows:
        reps[rep_id] = RepState(
            id=rep_id,
            name=name,
            active=active,
            team_id=team_id,
            territory_ids=setup.rep_territories.get(rep_id, frozenset()),
            capacity=capacity,
            open_leads=open_counts.get(rep_id, 0),
            daily_cap=daily_cap,
            assigned_today=today.get(rep_id, 0),
            weight=float(weight),
            timezone=tz,
            working_hours=routing_working_hours(hours),
            time_off=tuple(time_off[rep_id]),
            skills=setup.rep_skills.get(rep_id, {}),
            last_assigned_at=last,
            conversion_rate=setup.conversion_rates.get(rep_id),
        )
    return reps


def _owner_lookups(leads: Sequence[LeadFacts]) -> tuple[dict[str, int], dict[str, int]]:
    """Owners of earlier leads with the batch's emails, and of accounts on its domains."""
    emails = {lead.email for lead in leads if lead.email}
    emails |= {e.lower() for e in emails}
    earlier: dict[str, int] = {}
    if emails:
        batch_ids = {lead.id for lead in leads}
        rows = (
            Lead.objects.filter(email__in=emails, owner_id__isnull=False)
            .order_by("email", "-assigned_at", "-id")
            .values_list("id", "email", "owner_id")
        )
        for lead_id, email, owner_id in rows:
            if lead_id not in batch_ids:  # a lead being re-routed is not its own earlier lead
                earlier.setdefault(email.lower(), owner_id)
    domains = set()
    for lead in leads:
        d = (lead.email_domain or "").lower()
        while d:  # eu.acme.com also looks up acme.com
            domains.add(d)
            d = d.partition(".")[2]
    accounts = dict(Account.objects.filter(domain__in=domains).values_list("domain", "owner_id")) if domains else {}
    return earlier, accounts


def routing_snapshot_load(
    *, now: dt.datetime, leads: Sequence[LeadFacts], setup: RoutingSetup | None = None
) -> tuple[RoutingSnapshot, RoutingSetup]:
    """Everything the engine needs to decide `leads` at `now`; call it inside the routing lock.

    Pass the `setup` a previous batch returned to skip re-reading rules and territories.
    """
    rule_set = RuleSet.current()
    if setup is None or setup.version != rule_set.version:
        setup = routing_setup_load(now=now, rule_set=rule_set)
    cursors = {
        key: PoolCursor(key, last, {int(k): float(v) for k, v in (weights or {}).items()})
        for key, last, weights in RotationCursor.objects.filter(Q(pool_key__startswith="rule:")).values_list(
            "pool_key", "last_rep_id", "current_weights"
        )
    }
    earlier, accounts = _owner_lookups(leads) if rule_set.existing_owner_first else ({}, {})
    snapshot = RoutingSnapshot(
        now=now,
        rules=setup.rules,
        territories=setup.territories,
        reps=_reps(now, setup),
        cursors=cursors,
        account_owners=accounts,
        earlier_owners=earlier,
        settings=RuleSetSettings(existing_owner_first=rule_set.existing_owner_first, version=rule_set.version),
    )
    return snapshot, setup
