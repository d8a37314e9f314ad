"""Factories for territories, rules, assignments and rotation state."""

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from leadops.tests.factories import LeadFactory
from reps.models import Rep
from reps.tests.factories import RepFactory
from routing.engine import (
    ASSIGNED,
    HOLD,
    NEXT_RULE,
    POOL,
    POOLED,
    ROUND_ROBIN,
    LeadFacts,
    ReasonTrace,
    RepState,
    RoutingEngine,
    RoutingSnapshot,
    RuleSetSettings,
    RuleSpec,
    claim_trace,
)
from routing.models import Assignment, RotationCursor, Rule, RuleCondition, RulePoolRep, Territory


class TerritoryFactory(DjangoModelFactory):
    class Meta:
        model = Territory
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Territory {n:03d}")
    parent = None
    countries = factory.LazyFunction(lambda: ["DE"])
    regions = factory.LazyFunction(list)
    postal_prefixes = factory.LazyFunction(list)


class RuleFactory(DjangoModelFactory):
    class Meta:
        model = Rule
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Rule {n:03d}")
    priority = factory.Sequence(lambda n: (n + 1) * 10)
    active = True
    strategy = "round_robin"
    when_none_eligible = "next_rule"

    @factory.post_generation
    def required_skills(self, create, extracted, **kwargs):
        if create and extracted:
            self.required_skills.set(extracted)

    @factory.post_generation
    def preferred_skills(self, create, extracted, **kwargs):
        if create and extracted:
            self.preferred_skills.set(extracted)


class RuleConditionFactory(DjangoModelFactory):
    class Meta:
        model = RuleCondition

    rule = factory.SubFactory(RuleFactory)
    field = "country"
    op = "equals"
    value = "DE"
    position = factory.Sequence(int)


class RulePoolRepFactory(DjangoModelFactory):
    class Meta:
        model = RulePoolRep

    rule = factory.SubFactory(RuleFactory)
    rep = factory.SubFactory(RepFactory)
    position = factory.Sequence(int)


def engine_reason(*, rule: Rule | None, rep: Rep | None, outcome: str = "assigned") -> ReasonTrace:
    """A real reason trace, made by the engine deciding one lead with only this rule and rep.

    A rule of the `pool` strategy with a rep is a claim from its pool; no rule with a rep is the
    account's existing owner; no rep is a lead nobody could take (pooled when the outcome says so).
    """
    if rule is not None and rep is not None and rule.strategy == POOL and outcome == ASSIGNED:
        return claim_trace(rule=rule.name, rule_id=rule.pk, rep=rep.name, rep_id=rep.pk, by=rep.email)
    reps = {rep.pk: RepState(id=rep.pk, name=rep.name)} if rep is not None else {}
    rules = []
    if rule is not None:
        strategy = rule.strategy if rep is not None or outcome != POOLED else ROUND_ROBIN
        rules.append(
            RuleSpec(
                id=rule.pk,
                name=rule.name,
                priority=rule.priority,
                rep_ids=list(reps),
                strategy=strategy,
                when_none_eligible=HOLD if outcome == POOLED and rep is None else NEXT_RULE,
            )
        )
    snapshot = RoutingSnapshot(
        now=timezone.now(),
        rules=rules,
        reps=reps,
        account_owners={"example.com": rep.pk} if rep is not None and rule is None else {},
        settings=RuleSetSettings(existing_owner_first=rule is None),
    )
    return RoutingEngine(snapshot).decide(LeadFacts(id=0, email="lead@example.com")).reason


class AssignmentFactory(DjangoModelFactory):
    """An engine decision assigning a lead to a rep by a rule, with the trace the engine writes for it."""

    class Meta:
        model = Assignment

    lead = factory.SubFactory(LeadFactory, status="assigned", owner=factory.SelfAttribute("..rep"))
    outcome = "assigned"
    rep = factory.SubFactory(RepFactory)
    rule = factory.SubFactory(RuleFactory)
    rule_name = factory.LazyAttribute(lambda o: o.rule.name if o.rule else "")
    strategy = factory.LazyAttribute(lambda o: o.rule.strategy if o.rule else "")
    decided_by = "engine"
    rule_set_version = 1
    reason = factory.LazyAttribute(lambda o: engine_reason(rule=o.rule, rep=o.rep, outcome=o.outcome))
    created_at = factory.LazyFunction(timezone.now)
    # As the writers set it: the lead's first decision when it has none yet.
    first_decision = factory.LazyAttribute(lambda o: not Assignment.objects.filter(lead=o.lead).exists())


class RotationCursorFactory(DjangoModelFactory):
    class Meta:
        model = RotationCursor

    pool_key = factory.Sequence(lambda n: f"rule:{n}")
    last_rep_id = None
    current_weights = factory.LazyFunction(dict)


def routing_setup_create(size: int) -> dict:
    """A routing set-up with `size` rows of everything the admin lists (for query-count tests).

    The first rep holds every skill and time off, the first rule lists every rep, so change
    pages grow with `size` too.
    """
    from leadops.tests.factories import LeadFactory
    from reps.tests.factories import RepSkillFactory, SkillTagFactory, TeamFactory, TimeOffFactory
    from routing.models import RepDailyCount

    teams = TeamFactory.create_batch(size)
    skills = SkillTagFactory.create_batch(size)
    top = TerritoryFactory(countries=[])
    territories = [TerritoryFactory(parent=top) for _ in range(size)]
    reps = [RepFactory(team=teams[i], territories=[territories[i]]) for i in range(size)]
    for skill in skills:
        RepSkillFactory(rep=reps[0], skill=skill, proficiency=4)
    for i in range(size):
        TimeOffFactory(rep=reps[0], start=timezone.now() + timezone.timedelta(days=7 * i))
    rules = [
        RuleFactory(pool_team=teams[i], pool_territory=territories[i], required_skills=[skills[i]]) for i in range(size)
    ]
    for i, rule in enumerate(rules):
        RuleConditionFactory(rule=rule, field="industry", op="in", value=["airline", "logistics"])
        RuleConditionFactory(rule=rule, field="country", op="in_territory", value=territories[i].name)
    for rep in reps:
        RulePoolRepFactory(rule=rules[0], rep=rep)
    assignments = [
        AssignmentFactory(rep=reps[i], rule=rules[i], lead=LeadFactory(status="assigned", owner=reps[i]))
        for i in range(size)
    ]
    RepDailyCount.objects.bulk_create([RepDailyCount(rep=rep, day=timezone.localdate(), assigned=1) for rep in reps])
    RotationCursor.objects.bulk_create([RotationCursor(pool_key=f"rule:{rule.pk}") for rule in rules])
    return {
        "teams": teams,
        "skills": skills,
        "territories": territories,
        "reps": reps,
        "rules": rules,
        "assignments": assignments,
    }
