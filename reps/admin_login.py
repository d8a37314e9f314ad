"""Admin action "Give the selected reps a login": a user linked to each rep, its password shown once.

Kept apart from reps/admin.py (RepAdmin lists it in `actions`). Thin: calls reps.services.rep_login_create.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.template.response import TemplateResponse

from leadops.errors import DomainError
from reps.services import rep_login_create


@admin.action(description="Give the selected reps a login (their page: /queue/)", permissions=["change"])
def give_login(modeladmin, request, queryset):
    if not request.user.has_perm("auth.add_user"):
        modeladmin.message_user(request, "Making logins needs the permission to add users.", messages.ERROR)
        return None
    made, refused = [], []
    for rep_id in queryset.order_by("name").values_list("id", flat=True):
        try:
            made.append(rep_login_create(rep_id=rep_id))
        except DomainError as err:
            refused.append(" ".join(m for msgs in err.errors.values() for m in msgs))
    if not made:
        modeladmin.message_user(request, " ".join(refused) or "No rep selected.", messages.WARNING)
        return None
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": "Logins made: copy the passwords now",
        "made": made,
        "refused": refused,
        "login_path": "/queue/login/",
        "opts": modeladmin.model._meta,
    }
    response = TemplateResponse(request, "reps/admin/logins_made.html", context)
    response["Cache-Control"] = "no-store"  # the passwords are on this page only
    return response
