"""Assignment columns the routing admin (assignment list) and the lead admin (history inline) both show.

Not an admin module: both admins import it, neither imports the other.
"""

from __future__ import annotations

from django.contrib import admin

from routing.models import Assignment
from routing.reasons import strategy_label


class AssignmentColumnsMixin:
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
