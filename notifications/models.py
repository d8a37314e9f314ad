"""The outbox: channels (webhooks) and deliveries, one row per receiver of one event.

A Delivery is written in the transaction that causes it (an assignment, a pooled or unroutable
decision, an SLA breach) and sent by a job after commit (services/deliver.py). Its id is the
delivery id every attempt carries; a delivery that got a 2xx is `sent` and never sent again.
"""

import secrets
import uuid

from django.db import models
from django.db.models import Q


class Event(models.TextChoices):
    ASSIGNED = "lead.assigned", "Lead assigned"
    POOLED = "lead.pooled", "Lead waiting in a pool"
    UNROUTABLE = "lead.unroutable", "Lead unroutable"
    SLA_BREACHED = "lead.sla_breached", "SLA breached"


class Channel(models.Model):
    """A webhook receiver: `json` (signed body) or `slack` (an incoming webhook's {"text": …})."""

    class Format(models.TextChoices):
        JSON = "json", "JSON, signed (X-LeadOps-Signature)"
        SLACK = "slack", "Slack incoming webhook"

    name = models.CharField(max_length=120, unique=True)
    format = models.CharField(max_length=8, choices=Format.choices, default=Format.JSON)
    url = models.URLField("URL", max_length=500)
    # Needed in clear to sign each body; never shown again after it is made (admin, command).
    secret = models.CharField(max_length=64, editable=False)
    events = models.JSONField(
        default=list, blank=True, help_text="Events this channel gets; none ticked = every event."
    )
    team = models.ForeignKey(
        "reps.Team",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="channels",
        help_text="Only leads whose owner (or pool) belongs to this team; empty = every lead.",
    )
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=Q(format__in=["json", "slack"]), name="channel_format_known"),
        ]

    def __str__(self) -> str:
        return self.name

    def set_new_secret(self) -> str:
        self.secret = f"whsec_{secrets.token_urlsafe(32)}"
        return self.secret

    def wants(self, event: str, team_id: int | None) -> bool:
        return (not self.events or event in self.events) and (self.team_id is None or self.team_id == team_id)


class DeliveryQuerySet(models.QuerySet):
    def due(self, now):
        return self.filter(status=Delivery.Status.PENDING, next_attempt_at__lte=now)


class Delivery(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Waiting to be sent"
        SENDING = "sending", "Being sent"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    id = models.UUIDField("delivery id", primary_key=True, default=uuid.uuid4, editable=False)
    event = models.CharField(max_length=24, choices=Event.choices)
    # Routing writes a row per receiver of every decision: each index is paid per row. A lead's
    # rows are found by (lead, created_at); a rep is never looked up by its deliveries, and the
    # admin lists a channel's by walking the created_at index. For the same reason the three
    # references have no database constraint (each would be checked per row at commit, in the
    # routing transaction): the routing writer names leads it holds locked, reps and channels it
    # just read, and Django's deletion still cascades (lead, channel) or clears (rep) them.
    lead = models.ForeignKey(
        "leadops.Lead", on_delete=models.CASCADE, related_name="deliveries", db_index=False, db_constraint=False
    )
    rep = models.ForeignKey(
        "reps.Rep",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The lead's owner.",
        db_index=False,
        db_constraint=False,
    )
    rule_name = models.CharField(max_length=120, blank=True)
    decided_at = models.DateTimeField(help_text="When the decision behind the event was made (its Assignment).")
    sla_due_at = models.DateTimeField(null=True, blank=True)
    at = models.DateTimeField("event time")
    channel = models.ForeignKey(
        Channel,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="deliveries",
        db_index=False,
        db_constraint=False,
    )
    email = models.EmailField("e-mail to", blank=True)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    lease_until = models.DateTimeField(null=True, blank=True, editable=False)
    last_answer = models.TextField(blank=True, help_text="The receiver's last answer (status and body) or the error.")
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()

    objects = DeliveryQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "deliveries"
        constraints = [
            models.CheckConstraint(
                condition=(Q(channel__isnull=False) & Q(email="")) | (Q(channel__isnull=True) & ~Q(email="")),
                name="delivery_channel_or_email",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["pending", "sending", "sent", "failed"]), name="delivery_status_known"
            ),
        ]
        indexes = [
            models.Index(fields=["next_attempt_at"], condition=Q(status="pending"), name="delivery_due_idx"),
            models.Index(fields=["lease_until"], condition=Q(status="sending"), name="delivery_leased_idx"),
            models.Index(fields=["created_at"]),
            models.Index(fields=["lead", "created_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.event} · lead {self.lead_id} → {self.channel or self.email}"

    @property
    def receiver(self) -> str:
        return str(self.channel) if self.channel_id else self.email
