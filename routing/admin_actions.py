"""Admin actions for leads and reps; LeadAdmin / RepAdmin list them in `actions`.

Thin: each one reads the selection, calls a routing service and reports with message_user.
The two that need a rep first (reassign, claim for a rep) show a small form page.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse

from reps.models import Rep
from routing.services import (
    RoutingError,
    lead_claim,
    leads_enqueue_routing,
    leads_reassign,
    leads_release,
    leads_route,
    rep_redistribute_open_leads,
)

# Above this many leads "route now" hands them to the workers instead of routing in the request.
ROUTE_NOW_IN_REQUEST = 2000


class RepChoiceForm(forms.Form):
    rep = forms.ModelChoiceField(queryset=Rep.objects.filter(active=True).order_by("name"), label="Rep")


def _choose_rep(modeladmin, request, queryset, *, action: str, title: str, button: str):
    """The form page, or the chosen rep once the form is posted back valid."""
    form = RepChoiceForm(request.POST if "apply" in request.POST else None)
    if form.is_bound and form.is_valid():
        return form.cleaned_data["rep"], None
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": title,
        "button": button,
        "form": form,
        "queryset": queryset,
        "action": action,
        "opts": modeladmin.model._meta,
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
    }
    return None, TemplateResponse(request, "routing/admin/choose_rep.html", context)


@admin.action(description="Route selected leads now", permissions=["change"])
def route_now(modeladmin, request, queryset):
    ids = list(queryset.values_list("id", flat=True))
    if len(ids) > ROUTE_NOW_IN_REQUEST:
        leads_enqueue_routing(ids)
        modeladmin.message_user(request, f"{len(ids)} leads handed to the routing workers.")
        return
    result = leads_route(lead_ids=ids, retry=True)
    level = messages.WARNING if result.failed or result.unroutable else messages.SUCCESS
    modeladmin.message_user(request, f"Routed: {result.summary()}.", level)
    for lead_id, message in sorted(result.failed.items())[:10]:
        modeladmin.message_user(request, f"Lead {lead_id}: {message}", messages.ERROR)


@admin.action(description="Reassign selected leads to a rep…", permissions=["change"])
def reassign_to_rep(modeladmin, request, queryset):
    rep, page = _choose_rep(
        modeladmin, request, queryset, action="reassign_to_rep", title="Reassign leads", button="Reassign"
    )
    if page is not None:
        return page
    try:
        moved = leads_reassign(lead_ids=queryset.values_list("id", flat=True), rep_id=rep.id, user=request.user)
    except RoutingError as exc:
        modeladmin.message_user(request, str(exc.errors.get("rep", exc)[0]), messages.ERROR)
        return
    modeladmin.message_user(request, f"{len(moved)} leads reassigned to {rep.name}.", messages.SUCCESS)


@admin.action(description="Claim selected pooled leads for a rep…", permissions=["change"])
def claim_for_rep(modeladmin, request, queryset):
    rep, page = _choose_rep(
        modeladmin, request, queryset, action="claim_for_rep", title="Claim pooled leads for a rep", button="Claim"
    )
    if page is not None:
        return page
    claimed, refused = 0, []
    for lead_id in queryset.order_by("id").values_list("id", flat=True):
        try:
            lead_claim(lead_id=lead_id, rep_id=rep.id, user=request.user)
            claimed += 1
        except RoutingError as exc:
            refused.append(f"lead {lead_id}: {' '.join(m for ms in exc.errors.values() for m in ms)}")
    modeladmin.message_user(
        request, f"{claimed} leads claimed for {rep.name}.", messages.SUCCESS if claimed else messages.WARNING
    )
    for line in refused[:10]:
        modeladmin.message_user(request, line, messages.WARNING)


@admin.action(description="Release selected leads back to routing", permissions=["change"])
def release_to_routing(modeladmin, request, queryset):
    released = leads_release(lead_ids=queryset.values_list("id", flat=True), user=request.user)
    skipped = queryset.count() - len(released)
    note = f" ({skipped} without an owner or closed were left alone)" if skipped else ""
    modeladmin.message_user(request, f"{len(released)} leads sent back to routing{note}.")


@admin.action(description="Send their open leads to other reps", permissions=["change"])
def redistribute_open_leads(modeladmin, request, queryset):
    total = sum(len(rep_redistribute_open_leads(rep_id=rep_id)) for rep_id in queryset.values_list("id", flat=True))
    modeladmin.message_user(request, f"{total} open leads sent back to routing.")


@admin.action(description="Deactivate selected reps…", permissions=["change"])
def deactivate_and_redistribute(modeladmin, request, queryset):
    """To the confirmation page: it lists their open leads and asks which go back to routing."""
    ids = ",".join(str(pk) for pk in queryset.order_by("id").values_list("id", flat=True))
    return HttpResponseRedirect(f"{reverse('admin:reps_rep_deactivate')}?ids={ids}")


LEAD_ACTIONS = [route_now, reassign_to_rep, release_to_routing, claim_for_rep]
REP_ACTIONS = [redistribute_open_leads, deactivate_and_redistribute]
