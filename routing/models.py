"""Territories, routing rules, the assignment audit trail and the state strategies need."""

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from routing.engine.territories import TerritoryTree
from routing.engine.vocabulary import (
    LEAD_FACTS,
    LIST_OPERATORS,
    OPERATOR_LABELS,
    STRATEGY_LABELS,
    WHEN_NONE_ELIGIBLE_LABELS,
    is_lead_fact,
)


class Territory(models.Model):
    """Geographic criteria; nested (EMEA > DACH > Germany), the most specific match wins.

    A territory with no countries matches only through the territories inside it; empty
    regions / postal prefixes mean no restriction on those.
    """

    name = models.CharField(max_length=120, unique=True)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    countries = models.JSONField(default=list, blank=True, help_text='ISO 3166-1 alpha-2 codes, e.g. ["DE", "AT"].')
    regions = models.JSONField(default=list, blank=True, help_text="State / province codes; empty = any.")
    postal_prefixes = models.JSONField(default=list, blank=True, help_text="Postal-code prefixes; empty = any.")

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "territories"

    def __str__(self) -> str:
        return self.name

    def clean(self):
        if self.parent_id is not None:
            parents = dict(Territory.objects.exclude(pk=self.pk).values_list("pk", "parent_id"))
            parents[self.pk or "new"] = self.parent_id
            if TerritoryTree(parents).inside_itself(self.pk or "new"):
                raise ValidationError({"parent": "A territory cannot sit inside itself."})
        for field in ("countries", "regions", "postal_prefixes"):
            value = getattr(self, field)
            if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
                raise ValidationError({field: 'Give a list of codes, e.g. ["DE", "AT"].'})
        self.countries = [c.strip().upper() for c in self.countries]
        bad = [c for c in self.countries if len(c) != 2 or not c.isalpha()]
        if bad:
            raise ValidationError({"countries": f"Not ISO alpha-2 country codes: {', '.join(bad)}."})


class RuleSet(models.Model):
    """The single rule-set row: its version (bumped on every rule change) and global options."""

    version = models.PositiveIntegerField(default=1)
    existing_owner_first = models.BooleanField(
        default=True,
        help_text=(
            "Send a lead to the owner of its account (email domain) or of an earlier lead with the same email, "
            "when eligible."
        ),
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "rule set"

    def __str__(self) -> str:
        return f"Rule set v{self.version}"

    @classmethod
    def current(cls) -> "RuleSet":
        rule_set, _ = cls.objects.get_or_create(pk=1)
        return rule_set


def _choices(name: str, labels: dict[str, str]) -> type[models.TextChoices]:
    """TextChoices from one of the engine's vocabulary dicts: Strategy.ROUND_ROBIN == "round_robin"."""
    return models.TextChoices(name, [(value.upper(), (value, label)) for value, label in labels.items()])


# The vocabulary is declared once, in the engine (routing/engine/vocabulary.py).
Strategy = _choices("Strategy", STRATEGY_LABELS)
WhenNoneEligible = _choices("WhenNoneEligible", WHEN_NONE_ELIGIBLE_LABELS)
Operator = _choices("Operator", OPERATOR_LABELS)
LEAD_FACT_FIELDS = list(LEAD_FACTS)


class SlaAction(models.TextChoices):
    NOTIFY = "notify", "Notify the rep and the team's manager"
    REROUTE = "reroute", "Notify, and route the lead again without that rep"


class RuleQuerySet(models.QuerySet):
    def active(self):
        return self.filter(active=True)

    def in_priority_order(self):
        return self.order_by("priority", "id")


class Rule(models.Model):
    name = models.CharField(max_length=120, unique=True)
    priority = models.IntegerField(default=100, help_text="Lower runs first; ties by id.")
    active = models.BooleanField(default=True)
    pool_team = models.ForeignKey("reps.Team", null=True, blank=True, on_delete=models.PROTECT, related_name="rules")
    pool_reps = models.ManyToManyField("reps.Rep", through="RulePoolRep", blank=True, related_name="pool_rules")
    pool_territory = models.ForeignKey(
        Territory,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="pool_rules",
        help_text="Reps attached to this territory or any territory inside it.",
    )
    pool_matched_territory = models.BooleanField(
        default=False,
        help_text=(
            "Reps of the most specific territory containing the lead, widening to its parents while none is eligible."
        ),
    )
    required_skills = models.ManyToManyField("reps.SkillTag", blank=True, related_name="required_by_rules")
    preferred_skills = models.ManyToManyField("reps.SkillTag", blank=True, related_name="preferred_by_rules")
    strategy = models.CharField(max_length=20, choices=Strategy.choices, default=Strategy.ROUND_ROBIN)
    when_none_eligible = models.CharField(
        max_length=12, choices=WhenNoneEligible.choices, default=WhenNoneEligible.NEXT_RULE
    )
    requires_working_hours = models.BooleanField(default=False)
    sla_minutes = models.PositiveIntegerField(
        null=True, blank=True, help_text="Minutes to first contact; empty = no SLA."
    )
    sla_action = models.CharField(
        "when the SLA is breached", max_length=8, choices=SlaAction.choices, default=SlaAction.NOTIFY
    )
    claim_limit = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Pool strategy: most unworked claimed leads a rep may hold; empty = capacity only.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = RuleQuerySet.as_manager()

    class Meta:
        ordering = ["priority", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(strategy__in=[s.value for s in Strategy]), name="rule_strategy_known"),
            models.CheckConstraint(
                condition=Q(when_none_eligible__in=[w.value for w in WhenNoneEligible]),
                name="rule_when_none_eligible_known",
            ),
            models.CheckConstraint(condition=Q(sla_action__in=["notify", "reroute"]), name="rule_sla_action_known"),
        ]

    def __str__(self) -> str:
        return f"{self.priority} · {self.name}"

    def clean(self):
        if self.pool_territory_id and self.pool_matched_territory:
            raise ValidationError({"pool_territory": "Choose a named territory or “matched territory”, not both."})


class RulePoolRep(models.Model):
    """A rep listed in a rule's pool; position orders `direct` rules (tried in order)."""

    rule = models.ForeignKey(Rule, on_delete=models.CASCADE, related_name="pool_entries")
    rep = models.ForeignKey("reps.Rep", on_delete=models.CASCADE, related_name="pool_entries")
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["rule", "position", "id"]
        constraints = [models.UniqueConstraint(fields=["rule", "rep"], name="rule_pool_rep_once")]

    def __str__(self) -> str:
        return f"{self.rule.name}: {self.rep.name}"


def has_empty_text(value) -> bool:
    """Empty text or blanks, alone or in a list: PRODUCT.md refuses them as condition values."""
    values = value if isinstance(value, list) else [value]
    return any(isinstance(v, str) and not v.strip() for v in values)


def validate_condition(field: str, op: str, value) -> None:
    """Raise ValidationError in ops language when a condition cannot be evaluated."""
    if not is_lead_fact(field):
        raise ValidationError(
            {"field": f"“{field}” is not a lead fact; use one of {', '.join(LEAD_FACT_FIELDS)} or extra.<key>."}
        )
    if op not in Operator.values:
        raise ValidationError({"op": f"“{op}” is not an operator; use one of {', '.join(Operator.values)}."})
    if op not in (Operator.IS_EMPTY, Operator.IN_TERRITORY) and has_empty_text(value):
        raise ValidationError(
            {"value": "A value may not be empty text; to match a lead whose fact is empty use “is_empty”."}
        )
    if op in LIST_OPERATORS and not isinstance(value, list):
        raise ValidationError({"value": f'“{op}” needs a list of values, e.g. ["DE", "AT"].'})
    if op == Operator.BETWEEN and not (isinstance(value, list) and len(value) == 2):
        raise ValidationError({"value": "“between” needs [low, high]."})
    if op in {Operator.GTE, Operator.LTE} and not isinstance(value, (int, float)):
        raise ValidationError({"value": f"“{op}” needs a number."})
    if op == Operator.IN_TERRITORY and not (isinstance(value, str) and value):
        raise ValidationError({"value": "“in_territory” needs a territory name."})


class RuleCondition(models.Model):
    rule = models.ForeignKey(Rule, on_delete=models.CASCADE, related_name="conditions")
    field = models.CharField(max_length=80, help_text="A lead fact (country, industry, score …) or extra.<key>.")
    op = models.CharField("operator", max_length=20, choices=Operator.choices)
    value = models.JSONField(null=True, blank=True, help_text='JSON: "DE", ["DE","AT"], 50, [10, 500].')
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["rule", "position", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(op__in=[o.value for o in Operator]), name="rule_condition_op_known"),
        ]

    def __str__(self) -> str:
        return f"{self.field} {self.get_op_display()} {self.value!r}"

    def clean(self):
        validate_condition(self.field or "", self.op or "", self.value)


# An assignment that the lead left for another rep within this window did not stick (reports' accuracy).
REASSIGN_WINDOW = timedelta(days=7)
FACTS_INDEX_INCLUDE = [
    *["id", "lead", "rep", "ended_at", "rule", "decided_by"],
    *["first_contacted_at", "converted_at", "misrouted_at", "reassigned_at", "first_decision"],
]


REP_FACTS_INDEX_INCLUDE = [
    *["outcome", "id", "lead", "ended_at", "first_decision"],
    *["first_contacted_at", "converted_at", "misrouted_at", "reassigned_at"],
]
SLA_DUE_INDEX_INCLUDE = [
    *["id", "lead", "rep", "rule", "rule_name", "outcome"],
    *["ended_at", "sla_met_at", "sla_breached_at"],
]
FIRST_DECISION_INDEX_INCLUDE = ["lead", "rep", "outcome", "decided_by", "rule", "strategy", "rule_name"]
# The rows whose lead may count twice in a period (reports.rollups.MAY_REPEAT): what reports read raw beside
# their rollups.
REPEATS_INDEX_INCLUDE = ["rep", "lead", "ended_at", "first_decision", "first_contacted_at", "converted_at"]


class Assignment(models.Model):
    """One routing decision or manual reassignment; never edited, a reassignment is a new row."""

    class Outcome(models.TextChoices):
        ASSIGNED = "assigned", "Assigned to a rep"
        POOLED = "pooled", "Held in a pool"
        UNROUTABLE = "unroutable", "Unroutable"

    class DecidedBy(models.TextChoices):
        ENGINE = "engine", "Engine"
        USER = "user", "User"

    class EndReason(models.TextChoices):
        REASSIGNED = "reassigned", "Reassigned"
        MISROUTED = "misrouted", "Flagged misrouted"
        RELEASED = "released", "Released"
        REROUTED = "rerouted", "Routed again"
        DEACTIVATED = "deactivated", "Rep deactivated"
        AWAY = "away", "Rep away"
        SLA_BREACHED = "sla_breached", "SLA breached, routed again"

    lead = models.ForeignKey("leadops.Lead", on_delete=models.CASCADE, related_name="assignments")
    outcome = models.CharField(max_length=12, choices=Outcome.choices, default=Outcome.ASSIGNED)
    rep = models.ForeignKey("reps.Rep", null=True, blank=True, on_delete=models.PROTECT, related_name="assignments")
    rule = models.ForeignKey(Rule, null=True, blank=True, on_delete=models.SET_NULL, related_name="assignments")
    rule_name = models.CharField(
        max_length=120, blank=True, help_text="Kept so the audit reads right after a rule is renamed or deleted."
    )
    strategy = models.CharField(max_length=20, blank=True)
    decided_by = models.CharField(max_length=8, choices=DecidedBy.choices, default=DecidedBy.ENGINE)
    decided_by_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    rule_set_version = models.PositiveIntegerField(default=0)
    reason = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(db_index=True)
    # Report facts, kept at write time by the two services that change them (never by signals):
    # routing.services.assignments.assignments_end (ended_at, end_reason; it also drops a fact
    # that falls after the end) and leadops.services.events.lead_event_record (the other three).
    # Set when a later assignment or event takes the lead from this one.
    ended_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.CharField(max_length=12, choices=EndReason.choices, blank=True)
    # The rep's first `contacted` event on the lead between created_at and ended_at.
    first_contacted_at = models.DateTimeField(null=True, blank=True)
    # When the lead was converted, on every assignment of the lead to the rep who converted it.
    converted_at = models.DateTimeField(null=True, blank=True)
    # When the rep flagged the lead `misrouted` between created_at and ended_at (the earliest).
    misrouted_at = models.DateTimeField(null=True, blank=True)
    # When the lead was next assigned to a different rep, if that was within REASSIGN_WINDOW of this
    # assignment and this one had ended other than by an SLA breach (it did not stick). Stamped by
    # assignments_mark_reassigned before the later assignment is written.
    reassigned_at = models.DateTimeField(null=True, blank=True)
    # The lead's first routing decision (its earliest row): what reports' rule coverage classes. Set
    # by the writer that finds the lead without an Assignment (route._claim, assignments._switch_owner).
    first_decision = models.BooleanField(default=False)
    # When the lead came in (its created_at), kept on each of its decisions: reports' rule coverage counts the
    # first decisions of the leads that came in in a period from their own index, without reading the leads.
    # save() takes it from the lead; the bulk writers (route._assignments_insert, the demo) pass it.
    lead_created_at = models.DateTimeField()
    # SLA (rule.sla_minutes): due = created_at + minutes. The watch (services/sla.py) settles each
    # due assignment once: met (contacted, or closed, by the due time) or breached.
    sla_due_at = models.DateTimeField("SLA due", null=True, blank=True)
    sla_met_at = models.DateTimeField("SLA met", null=True, blank=True)
    sla_breached_at = models.DateTimeField("SLA breached", null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(outcome__in=["assigned", "pooled", "unroutable"]), name="assignment_outcome_known"
            ),
            models.CheckConstraint(
                condition=~Q(outcome="assigned") | Q(rep__isnull=False), name="assignment_assigned_has_rep"
            ),
            models.CheckConstraint(condition=Q(decided_by__in=["engine", "user"]), name="assignment_decided_by_known"),
        ]
        indexes = [
            models.Index(fields=["lead", "created_at"]),
            # A rep's assignments by time; reports read a period's facts from it rep by rep, in rep order.
            models.Index(
                fields=["rep", "created_at"], include=REP_FACTS_INDEX_INCLUDE, name="assignment_rep_facts_idx"
            ),
            models.Index(fields=["rule", "created_at"]),
            # Reports: a period's assignments to reps with their facts, read from the index alone (INCLUDE is
            # Postgres only; elsewhere Django creates the plain partial index).
            models.Index(
                fields=["created_at"],
                include=FACTS_INDEX_INCLUDE,
                condition=Q(outcome="assigned"),
                name="assignment_report_facts_idx",
            ),
            # Reports' rule coverage: the first decisions of the leads that came in in a period, read from the index
            # alone on Postgres.
            models.Index(
                fields=["lead_created_at"],
                include=FIRST_DECISION_INDEX_INCLUDE,
                condition=Q(first_decision=True),
                name="assignment_coverage_idx",
            ),
            # Reports: the assignments whose lead may count twice in a period (ended, or not the lead's first
            # decision), which the reports read raw beside their rollups (reports/rollups.py).
            models.Index(
                fields=["created_at"],
                include=REPEATS_INDEX_INCLUDE,
                condition=Q(outcome="assigned") & (Q(ended_at__isnull=False) | Q(first_decision=False)),
                name="assignment_repeats_idx",
            ),
            # Reports: the contacted assignments by rep and time with their first contact, for the speed-to-lead
            # medians (every contacted assignment of the period, from this narrow index alone on Postgres).
            models.Index(
                fields=["rep", "created_at"],
                include=["first_contacted_at"],
                condition=Q(outcome="assigned", first_contacted_at__isnull=False),
                name="assignment_contacted_idx",
            ),
            # The SLA watch: current assignments with an SLA not yet settled, by due time.
            models.Index(
                fields=["sla_due_at"],
                condition=Q(sla_due_at__isnull=False, ended_at__isnull=True, sla_met_at__isnull=True)
                & Q(sla_breached_at__isnull=True),
                name="assignment_sla_open_idx",
            ),
            # Reports: the assignments and poolings whose SLA fell due in a period, with what the SLA columns
            # and card read of them, from the index alone on Postgres.
            models.Index(
                fields=["sla_due_at"],
                include=SLA_DUE_INDEX_INCLUDE,
                condition=Q(sla_due_at__isnull=False),
                name="assignment_report_sla_due_idx",
            ),
        ]

    def __str__(self) -> str:
        target = self.rep.name if self.rep_id else self.get_outcome_display()
        return f"Lead {self.lead_id} → {target}"

    def save(self, *args, **kwargs):
        if self.lead_created_at is None:
            self.lead_created_at = self.lead.created_at
        super().save(*args, **kwargs)


class RotationCursor(models.Model):
    """Round-robin / weighted rotation state, one row per pool (pool_key), locked while deciding.

    Never derived from the latest lead or a cache: two workers reading the same derived
    pointer pick the same rep.
    """

    pool_key = models.CharField(max_length=200, unique=True)
    last_rep_id = models.BigIntegerField(null=True, blank=True)
    current_weights = models.JSONField(
        default=dict, blank=True, help_text="Smooth weighted round robin: rep id → current weight."
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.pool_key


class RepDailyCount(models.Model):
    """Leads the engine assigned to a rep on a day in the rep's time zone (the daily cap counter)."""

    rep = models.ForeignKey("reps.Rep", on_delete=models.CASCADE, related_name="daily_counts")
    day = models.DateField()
    assigned = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["rep", "day"], name="rep_daily_count_once_per_day")]

    def __str__(self) -> str:
        return f"{self.rep_id} on {self.day}: {self.assigned}"


class RoutingVersion(models.Model):
    """One recorded change to the routing set-up: who, when, what in words, and the whole document.

    `number` is the rule-set version assignments record. The document (what `dump_routing`
    prints) is stored compactly: every FULL_EVERY-th version holds the whole document
    zlib-compressed, the others only the entries that changed since the version before
    (routing/versions.py reads and writes both).
    """

    number = models.PositiveIntegerField(unique=True)
    created_at = models.DateTimeField(db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    who = models.CharField(max_length=150, help_text="The user's name, or the command that made the change.")
    changes = models.JSONField(default=list, help_text="The changes in words, one a line.")
    full = models.BooleanField(default=False, help_text="The payload is the whole document, not a change set.")
    payload = models.BinaryField(
        help_text="zlib-compressed JSON: the document, or the changes since the version before."
    )
    settings = models.JSONField(default=dict, blank=True, help_text="Rule-set options (existing owner first).")

    class Meta:
        ordering = ["-number"]
        permissions = [("restore_routingversion", "Can restore an earlier routing version")]

    def __str__(self) -> str:
        return f"v{self.number}"
