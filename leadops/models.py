"""Lead intake: leads, their outcome events, integrations that post them, accounts that own domains."""

import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from routing.engine.vocabulary import email_domain

SOURCE_MAX = 60  # Lead.source


class LeadStatus(models.TextChoices):
    PENDING = "pending", "Pending routing"
    ASSIGNED = "assigned", "Assigned"
    POOLED = "pooled", "Waiting in a pool"
    UNROUTABLE = "unroutable", "Unroutable"
    CONVERTED = "converted", "Converted"
    LOST = "lost", "Lost"


class Integration(models.Model):
    """Something that posts leads through the API with its own key (stored hashed)."""

    name = models.CharField(max_length=120, unique=True)
    key_prefix = models.CharField(max_length=12, db_index=True, editable=False)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    active = models.BooleanField(default=True, help_text="Untick to revoke the key at once.")
    rate_limit_per_minute = models.PositiveIntegerField(null=True, blank=True, help_text="Empty = the server default.")
    allowed_sources = models.JSONField(
        default=list,
        blank=True,
        help_text="Sources this integration may post leads under besides its own name (a list of texts); "
        "a source belongs to one integration.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @staticmethod
    def hash_key(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()

    @property
    def sources(self) -> list[str]:
        """The sources it may post under: its name (its leads' default source), then the ones ops gave it."""
        own = self.name[:SOURCE_MAX]
        return [own, *(s for s in self.allowed_sources or [] if s != own)]

    def set_new_key(self) -> str:
        """Give the integration a fresh key and return it; only its hash is kept."""
        key = f"lo_{secrets.token_urlsafe(32)}"
        self.key_prefix = key[:12]
        self.key_hash = self.hash_key(key)
        return key


class LeadQuerySet(models.QuerySet):
    def pending(self):
        return self.filter(status=LeadStatus.PENDING)

    def open(self):
        """Leads that count against their owner's capacity."""
        return self.filter(status=LeadStatus.ASSIGNED, owner__isnull=False)


class Lead(models.Model):
    integration = models.ForeignKey(Integration, null=True, blank=True, on_delete=models.SET_NULL, related_name="leads")
    source = models.CharField(max_length=SOURCE_MAX, default="manual")
    external_id = models.CharField(max_length=120, null=True, blank=True)

    email = models.EmailField(blank=True)
    email_domain = models.CharField(max_length=255, blank=True, editable=False)
    first_name = models.CharField(max_length=80, blank=True)
    last_name = models.CharField(max_length=80, blank=True)
    phone = models.CharField(max_length=40, blank=True)
    company = models.CharField(max_length=200, blank=True)
    industry = models.CharField(max_length=80, blank=True)
    company_size = models.PositiveIntegerField(null=True, blank=True, help_text="Employees.")
    annual_revenue = models.DecimalField(max_digits=16, decimal_places=2, null=True, blank=True)
    country = models.CharField(max_length=2, blank=True, help_text="ISO 3166-1 alpha-2.")
    region = models.CharField(max_length=40, blank=True, help_text="State / province code.")
    city = models.CharField(max_length=120, blank=True)
    postal_code = models.CharField(max_length=20, blank=True)
    product_interest = models.CharField(max_length=120, blank=True)
    score = models.PositiveSmallIntegerField(null=True, blank=True, help_text="0–100.")
    language = models.CharField(max_length=20, blank=True)
    extra = models.JSONField(default=dict, blank=True)

    status = models.CharField(max_length=12, choices=LeadStatus.choices, default=LeadStatus.PENDING, db_index=True)
    owner = models.ForeignKey("reps.Rep", null=True, blank=True, on_delete=models.PROTECT, related_name="leads")
    pool_rule = models.ForeignKey(
        "routing.Rule",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="pooled_leads",
        help_text="The rule whose pool holds this lead while it is pooled.",
    )
    routing_error = models.TextField(blank=True, help_text="Why the last routing attempt failed, if it did.")
    # The file import that created the lead (the admin's result links to its leads); indexed only where set.
    import_run = models.ForeignKey(
        "leadops.ImportRun",
        null=True,
        blank=True,
        editable=False,
        on_delete=models.SET_NULL,
        related_name="leads",
        db_index=False,
        verbose_name="file import",
    )

    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    assigned_at = models.DateTimeField(null=True, blank=True)
    first_contacted_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    objects = LeadQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "external_id"],
                condition=Q(external_id__isnull=False),
                name="lead_source_external_id_unique",
            ),
            models.CheckConstraint(condition=Q(status__in=LeadStatus.values), name="lead_status_known"),
            models.CheckConstraint(condition=Q(score__isnull=True) | Q(score__lte=100), name="lead_score_0_to_100"),
            models.CheckConstraint(
                condition=Q(annual_revenue__isnull=True) | Q(annual_revenue__gte=0), name="lead_revenue_not_negative"
            ),
            models.CheckConstraint(
                condition=~Q(status=LeadStatus.ASSIGNED) | Q(owner__isnull=False), name="lead_assigned_has_owner"
            ),
        ]
        indexes = [
            models.Index(fields=["status", "created_at"]),
            # Reports: the sources seen in a period (a skip scan, two probes per source) and a source's leads.
            models.Index(fields=["source", "created_at"], name="lead_source_created_idx"),
            models.Index(fields=["owner", "status"]),
            models.Index(fields=["email"]),
            models.Index(fields=["email_domain"]),
            # Reports: "did the rep convert this lead?" read from the index alone (a few MB), not the lead rows.
            models.Index(
                fields=["id", "owner"], condition=Q(status=LeadStatus.CONVERTED), name="lead_converted_owner_idx"
            ),
            # "The leads this import created": a partial index holds only imported leads (small, and built
            # at once on a big table where no lead was imported yet).
            models.Index(fields=["import_run"], condition=Q(import_run__isnull=False), name="lead_import_run_idx"),
            # Routing claims the waiting leads oldest id first (routing/services/route.py `_claim`): read in id
            # order from this index of them alone. Without it, with 100,000 leads waiting among 1,000,000 (a big
            # import), one batch's claim took 0.32-0.33 s against 0.05-0.07 s (bench/routing.py (d)).
            models.Index(
                fields=["id"], condition=Q(status=LeadStatus.PENDING, routing_error=""), name="lead_waiting_idx"
            ),
        ]

    def __str__(self) -> str:
        who = " ".join(p for p in (self.first_name, self.last_name) if p) or self.email or f"Lead {self.pk}"
        return f"{who} ({self.company})" if self.company else who

    def save(self, *args, **kwargs):
        # Derived fact, kept in a column so rules and existing-owner lookups can index it.
        self.email_domain = email_domain(self.email)
        super().save(*args, **kwargs)

    @property
    def is_open(self) -> bool:
        return self.status == LeadStatus.ASSIGNED and self.owner_id is not None


class LeadEventType(models.TextChoices):
    CONTACTED = "contacted", "Contacted"
    CONVERTED = "converted", "Converted"
    LOST = "lost", "Lost"
    MISROUTED = "misrouted", "Flagged misrouted"
    RELEASED = "released", "Released back to routing"
    SLA_BREACHED = "sla_breached", "SLA breached"


# Events integrations and reps may record; `sla_breached` is written by the SLA watch only.
POSTABLE_EVENT_TYPES = [t for t in LeadEventType if t != LeadEventType.SLA_BREACHED]


class LeadEvent(models.Model):
    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="events")
    type = models.CharField(max_length=12, choices=LeadEventType.choices)
    rep = models.ForeignKey(
        "reps.Rep",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="lead_events",
        help_text="The lead's owner when the event happened.",
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    integration = models.ForeignKey(Integration, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField(default=timezone.now)
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(type__in=LeadEventType.values), name="lead_event_type_known"),
        ]
        indexes = [
            models.Index(fields=["lead", "type", "at"]),
            models.Index(fields=["rep", "type", "at"]),
            # Reports: a rep's first contact of a lead, answered from the index alone.
            models.Index(fields=["lead", "rep", "type", "at"], name="leadevent_lead_rep_type_at_idx"),
            # Reports: a period's contacts read from the index alone, to hash-join with its assignments
            # (INCLUDE is Postgres only; elsewhere Django creates the plain partial index).
            models.Index(
                fields=["at"],
                include=["lead", "rep"],
                condition=Q(type=LeadEventType.CONTACTED),
                name="leadevent_contacted_at_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_type_display()} · {self.at:%Y-%m-%d %H:%M}"


class Account(models.Model):
    """A customer account: leads from its email domain go to its owner first (existing-owner routing)."""

    name = models.CharField(max_length=200)
    domain = models.CharField(max_length=255, unique=True, help_text="Email domain, e.g. acme.com.")
    owner = models.ForeignKey("reps.Rep", on_delete=models.PROTECT, related_name="accounts")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.domain})"

    def save(self, *args, **kwargs):
        self.domain = self.domain.strip().lower()
        super().save(*args, **kwargs)


class ImportRun(models.Model):
    """A lead file uploaded in the admin: imported by a background job, streaming (constant memory,
    no request timeout), or previewed first on the Leads → Import page and imported on confirm.
    Its leads point back at it (Lead.import_run)."""

    class Status(models.TextChoices):
        PREVIEW = "preview", "Previewed, not imported"
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    file_name = models.CharField(max_length=255)
    # The upload itself, so a worker on any machine can read it (no shared disk); emptied once imported.
    content = models.BinaryField(editable=False, default=bytes)
    source = models.CharField(max_length=60, default="import", help_text="Source of rows with no source column.")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    rows = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    duplicates = models.PositiveIntegerField(default=0)
    errors = models.PositiveIntegerField(default=0)
    error_lines = models.TextField(
        blank=True, help_text="The first bad rows, one per line, with their line number and value."
    )
    failure = models.TextField(blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "lead file import"

    def __str__(self) -> str:
        return f"{self.file_name} ({self.get_status_display().lower()})"
