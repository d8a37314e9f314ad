"""Small builders for report fixtures: assignments, contacts, conversions and flags at exact times."""

import datetime as dt

from django.contrib.auth.models import Group, Permission, User
from django.http import QueryDict

from leadops.services.events import lead_event_record
from leadops.tests.factories import LeadFactory
from reports.filters import ReportFilter
from routing.services.assignments import assignments_end, assignments_mark_reassigned
from routing.tests.factories import AssignmentFactory

UTC = dt.UTC


def at(day: int, hour: int = 10, minute: int = 0, second: int = 0, month: int = 3) -> dt.datetime:
    """A moment in March 2026 (UTC)."""
    return dt.datetime(2026, month, day, hour, minute, second, tzinfo=UTC)


def assign(rep, when, *, lead=None, rule=None, decided_by="engine", **lead_fields):
    """Assign a (new) lead to `rep` at `when`; the lead ends up owned by `rep`, status assigned.

    Handing over an existing lead ends its current assignment with the routing service that
    ends assignments and stamps a move on the earlier ones (as the router, a reassignment and a
    claim do). The Assignment row itself
    is written by the factory: the services stamp their own clock, the reports need exact times.
    A rule with an SLA stamps the due time as the routing writer does (created + sla_minutes);
    `routing.services.sla.sla_watch` settles it.
    """
    if lead is None:
        lead = LeadFactory(status="assigned", owner=rep, created_at=when, **lead_fields)
    else:
        assignments_end(lead_ids=[lead.pk], at=when, reason="reassigned")
        assignments_mark_reassigned(handovers=[(lead.pk, rep.pk)], at=when)
        lead.refresh_from_db()
        lead.owner, lead.status = rep, "assigned"
        lead.save(update_fields=["owner", "status", "updated_at"])
    due = when + dt.timedelta(minutes=rule.sla_minutes) if rule is not None and rule.sla_minutes else None
    return AssignmentFactory(lead=lead, rep=rep, rule=rule, decided_by=decided_by, created_at=when, sla_due_at=due)


def end(assignment, when, reason):
    assignments_end(lead_ids=[assignment.lead_id], at=when, reason=reason)
    assignment.refresh_from_db()


def event(assignment_or_lead, kind, when):
    """Record an outcome event at `when` through the events service, by the lead's owner then
    (so the facts on its assignments move as in production: a misrouted event also ends the
    assignment and sends the lead back to pending)."""
    lead_id = getattr(assignment_or_lead, "lead_id", None) or assignment_or_lead.pk
    return lead_event_record(lead_id=lead_id, type=kind, at=when)


def convert(assignment, when):
    event(assignment, "converted", when)


def report(**params):
    """The per-rep report for these filters, as the page computes it (with the speed buckets of its chart)."""
    from reports import selectors

    filters = report_filter(**params)
    return selectors.rep_report(assignments=filters.qs, due=filters.sla_due(), reps=filters.reps(), speed_buckets=True)


def report_filter(**params) -> ReportFilter:
    data = QueryDict(mutable=True)
    for key, value in params.items():
        data[key] = str(value)
    filters = ReportFilter(data)
    assert filters.is_valid(), filters.errors
    return filters


def manager(username="manager", password="pass-Word-123") -> User:
    """A user in the Managers group (recreated with its permission when a transactional test flushed it)."""
    user = User.objects.create_user(username, password=password)
    group, created = Group.objects.get_or_create(name="Managers")
    if created:
        group.permissions.add(Permission.objects.get(content_type__app_label="reports", codename="view_reports"))
    user.groups.add(group)
    return user
