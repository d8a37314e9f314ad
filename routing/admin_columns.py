"""Assignment columns the routing admin (assignment list) and the lead admin (history inline) both show.

Not an admin module: both admins import it, neither imports the other.
"""

from __future__ import annotations

import datetime as dt

from django.contrib import admin
from django.db.models import OuterRef, QuerySet, Subquery
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from routing.models import Assignment, RoutingVersion
from routing.reasons import strategy_label


def with_version_pk(assignments: QuerySet) -> QuerySet:
    """Assignments with the id of their routing version's row (`version_pk`), read in the same query."""
    versions = RoutingVersion.objects.filter(number=OuterRef("rule_set_version")).values("pk")[:1]
    return assignments.annotate(version_pk=Subquery(versions))


class AssignmentColumnsMixin:
    """Querysets shown with these columns go through `with_version_pk`."""

    @admin.display(description="routing version")
    def version(self, assignment):
        number, pk = assignment.rule_set_version, getattr(assignment, "version_pk", None)
        if not number:
            return "—"
        if pk is None:
            return f"v{number} (before history was recorded)"
        return format_html('<a href="{}">v{}</a>', reverse("admin:routing_routingversion_change", args=[pk]), number)

    @admin.display(description="strategy", ordering="strategy")
    def strategy_words(self, assignment):
        return strategy_label(assignment.strategy) if assignment.strategy else "—"

    @admin.display(description="decided by")
    def decided(self, assignment):
        if assignment.decided_by == Assignment.DecidedBy.USER and assignment.decided_by_user_id:
            return assignment.decided_by_user.get_username()
        return assignment.get_decided_by_display()

    @admin.display(description="ended")
    def ended(self, assignment):
        if not assignment.ended_at:
            return "current" if assignment.outcome == Assignment.Outcome.ASSIGNED else "—"
        return f"{assignment.get_end_reason_display()} {assignment.ended_at:%Y-%m-%d %H:%M}"

    @admin.display(description="SLA")
    def sla(self, assignment):
        return sla_words(assignment)


def sla_words(assignment) -> str:
    """ "due 14:30", "met 14:12 (due 14:30)", "breached (due 14:30)"; "—" without an SLA."""
    if assignment.sla_due_at is None:
        return "—"
    due = f"due {timezone.localtime(assignment.sla_due_at):%Y-%m-%d %H:%M}"
    if assignment.sla_breached_at:
        return f"breached ({due}, found {timezone.localtime(assignment.sla_breached_at):%H:%M})"
    if assignment.sla_met_at:
        return f"met {timezone.localtime(assignment.sla_met_at):%H:%M} ({due})"
    return due


class LeadSlaFilter(admin.SimpleListFilter):
    """Lead list: leads whose SLA was breached, and leads due within the hour (not contacted yet)."""

    title = "SLA"
    parameter_name = "sla"

    def lookups(self, request, model_admin):
        return [("breached", "SLA breached"), ("due_soon", "Due within the hour")]

    def queryset(self, request, queryset):
        if self.value() == "breached":
            return queryset.filter(assignments__sla_breached_at__isnull=False).distinct()
        if self.value() == "due_soon":
            soon = timezone.now() + dt.timedelta(hours=1)
            return queryset.filter(
                assignments__ended_at__isnull=True,
                assignments__sla_due_at__lte=soon,
                assignments__sla_met_at__isnull=True,
                assignments__sla_breached_at__isnull=True,
            ).distinct()
        return queryset
