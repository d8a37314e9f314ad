"""Reps, teams, skill tags, capacity and time off."""

import zoneinfo
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone

WEEKDAYS = {1: "Mon", 2: "Tue", 3: "Wed", 4: "Thu", 5: "Fri", 6: "Sat", 7: "Sun"}


def validate_timezone(value: str) -> None:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise ValidationError(
            f"“{value}” is not a time zone name; use one like Europe/Berlin or America/New_York."
        ) from exc


PROFICIENCY_MIN, PROFICIENCY_MAX = 1, 5
WEIGHT_MAX = Decimal("1000")  # below the column's 5 digits, 2 decimals


def validate_proficiency(value) -> None:
    """A skill level 1 (basic) to 5 (expert): the admin and the routing file both ask this."""
    if isinstance(value, bool) or not isinstance(value, int) or not PROFICIENCY_MIN <= value <= PROFICIENCY_MAX:
        raise ValidationError(f"Proficiency runs from {PROFICIENCY_MIN} (basic) to {PROFICIENCY_MAX} (expert).")


def weight_clean(value) -> Decimal:
    """The weight as stored (two decimals); ValidationError unless it is above 0 and below 1000."""
    try:
        if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
            raise InvalidOperation
        rounded = Decimal(str(value)).quantize(Decimal("0.01"))
        if not Decimal("0") < rounded < WEIGHT_MAX:
            raise InvalidOperation
    except InvalidOperation as exc:
        raise ValidationError("Weight must be above 0: 1 is a full share, 0.5 half (a ramping rep).") from exc
    return rounded


def validate_working_hours(value) -> None:
    """Empty means no restriction; otherwise {"start": "HH:MM", "end": "HH:MM", "days": [1..7]}."""
    if not value:
        return
    if not isinstance(value, dict) or set(value) - {"start", "end", "days"}:
        raise ValidationError(
            'Working hours must look like {"start": "08:00", "end": "18:00", "days": [1, 2, 3, 4, 5]}.'
        )
    for key in ("start", "end"):
        text = value.get(key)
        try:
            hours, minutes = str(text).split(":")
            if not (0 <= int(hours) <= 24 and 0 <= int(minutes) < 60):
                raise ValueError
        except ValueError as exc:
            raise ValidationError(f"Working hours {key} “{text}” is not a time like 08:00.") from exc
    if value["start"] >= value["end"]:
        raise ValidationError("Working hours must end after they start.")
    days = value.get("days", [1, 2, 3, 4, 5])
    if not isinstance(days, list) or not days or any(d not in WEEKDAYS for d in days):
        raise ValidationError("Working days are ISO weekday numbers 1 (Monday) to 7 (Sunday).")


class Team(models.Model):
    name = models.CharField(max_length=120, unique=True)
    manager = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="managed_teams"
    )
    away_hand_back_after_minutes = models.PositiveIntegerField(
        "hand back leads of members on time off after (minutes)",
        null=True,
        blank=True,
        help_text=(
            "Empty: a member's leads wait for them while they are away. A number: once a member's time off "
            "has run this long, their leads not yet contacted go back to routing (contacted leads stay)."
        ),
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class SkillTag(models.Model):
    name = models.CharField(max_length=60, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class RepQuerySet(models.QuerySet):
    def active(self):
        return self.filter(active=True)


class Rep(models.Model):
    name = models.CharField(max_length=120)
    email = models.EmailField(unique=True)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="rep"
    )
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="reps")
    territories = models.ManyToManyField("routing.Territory", blank=True, related_name="reps")
    skills = models.ManyToManyField(SkillTag, through="RepSkill", blank=True, related_name="reps")
    active = models.BooleanField(default=True, help_text="Inactive reps receive no leads and leave every pool.")
    timezone = models.CharField(max_length=64, default="UTC", validators=[validate_timezone])
    capacity = models.PositiveIntegerField(default=100, help_text="Most open leads this rep may hold at once.")
    daily_cap = models.PositiveIntegerField(
        default=50, help_text="Most leads the engine may assign per day (rep's time zone)."
    )
    weight = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        default=1,
        help_text="Share in weighted rotation; a ramping rep at 0.5 gets half.",
    )
    working_hours = models.JSONField(
        default=dict,
        blank=True,
        validators=[validate_working_hours],
        help_text='Empty for no restriction, or {"start": "08:00", "end": "18:00", "days": [1, 2, 3, 4, 5]}.',
    )
    notify_email = models.BooleanField(
        "e-mail on new leads", default=True, help_text="E-mail the rep each lead assigned to them and SLA breaches."
    )
    last_assigned_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = RepQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=Q(capacity__gte=0), name="rep_capacity_not_negative"),
            models.CheckConstraint(condition=Q(daily_cap__gte=0), name="rep_daily_cap_not_negative"),
            models.CheckConstraint(condition=Q(weight__gt=0), name="rep_weight_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"

    def is_on_time_off(self, at=None) -> bool:
        at = at or timezone.now()
        return self.time_off.filter(start__lte=at, end__gt=at).exists()


class RepSkill(models.Model):
    rep = models.ForeignKey(Rep, on_delete=models.CASCADE, related_name="rep_skills")
    skill = models.ForeignKey(SkillTag, on_delete=models.CASCADE, related_name="rep_skills")
    proficiency = models.PositiveSmallIntegerField(default=3, help_text="1 (basic) to 5 (expert).")

    class Meta:
        ordering = ["rep", "skill"]
        constraints = [
            models.UniqueConstraint(fields=["rep", "skill"], name="rep_skill_once_per_rep"),
            models.CheckConstraint(
                condition=Q(proficiency__gte=1, proficiency__lte=5), name="rep_skill_proficiency_1_to_5"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.skill} ({self.proficiency})"


class TimeOff(models.Model):
    rep = models.ForeignKey(Rep, on_delete=models.CASCADE, related_name="time_off")
    start = models.DateTimeField()
    end = models.DateTimeField()
    reason = models.CharField(max_length=120, blank=True)

    class Meta:
        ordering = ["start"]
        verbose_name_plural = "time off"
        constraints = [
            models.CheckConstraint(condition=Q(end__gt=models.F("start")), name="time_off_ends_after_start"),
        ]
        indexes = [models.Index(fields=["rep", "start", "end"])]

    def __str__(self) -> str:
        return f"{self.rep.name}: {self.start:%Y-%m-%d} → {self.end:%Y-%m-%d}"

    def clean(self):
        if self.start and self.end and self.end <= self.start:
            raise ValidationError({"end": "Time off must end after it starts."})
