"""The rep's own page, /queue/: my leads with SLA clocks and one-click outcomes; the pools I can take from.

Thin: each view reads through reps.selectors or calls one service (`lead_event_record`, the
same as POST /api/leads/{id}/events/; `lead_claim` / `lead_claim_next`, the engine's locked
path) and answers in words with a message and a redirect (POST → redirect → GET).
A rep sees only their own leads and their own pools: anything else is a 404.
"""

from __future__ import annotations

from functools import wraps

from django import forms
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from leadops.errors import DomainError, RoutingConflict
from leadops.login_throttle import ThrottledAuthenticationForm
from leadops.models import Lead, LeadEventType, LeadStatus
from leadops.services import lead_event_record
from reps import selectors
from reps.models import Rep
from routing.services import lead_claim, lead_claim_next

OUTCOMES = {
    LeadEventType.CONTACTED: "contacted",
    LeadEventType.CONVERTED: "converted: it leaves your open leads",
    LeadEventType.LOST: "lost: it leaves your open leads",
    LeadEventType.MISROUTED: "misrouted: it goes back to routing, and not to you",
}


class OutcomeForm(forms.Form):
    type = forms.ChoiceField(
        choices=[(t.value, t.label) for t in OUTCOMES],
        error_messages={"invalid_choice": "Choose contacted, converted, lost or misrouted."},
    )
    note = forms.CharField(required=False, max_length=2000, strip=True)

    def clean(self):
        data = super().clean()
        if data.get("type") == LeadEventType.MISROUTED and not data.get("note"):
            self.add_error("note", "Say in a few words why this lead is not for you (ops read it).")
        return data


def rep_required(view):
    """Logged in (else the login page) and linked to a rep (else a page saying so); sets request.rep."""

    @login_required(login_url=reverse_lazy("queue:login"))
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        rep = Rep.objects.select_related("team").filter(user_id=request.user.pk).first()
        if rep is None:
            return render(request, "reps/no_rep.html", status=403)
        request.rep = rep
        return view(request, *args, **kwargs)

    return wrapper


def _back(lead_id: int | None = None):
    url = reverse("queue:index")
    return redirect(f"{url}#lead-{lead_id}" if lead_id else url)


@require_GET
@rep_required
def queue(request):
    return render(request, "reps/queue.html", {"queue": selectors.rep_queue(rep=request.rep), "now": timezone.now()})


@require_GET
@rep_required
def lead_detail(request, pk: int):
    """One lead: mine (with its outcomes) or waiting in one of my pools (with Claim); else 404."""
    return _lead_page(request, get_object_or_404(Lead, pk=pk))


def _lead_page(request, lead: Lead, *, form: OutcomeForm | None = None, status: int = 200):
    rep = request.rep
    context = {"lead": lead, "form": form, "now": timezone.now()}
    if lead.owner_id == rep.id:
        context["item"] = selectors.rep_my_leads(rep=rep, lead_ids=[lead.id])[0]
    elif lead.status == LeadStatus.POOLED and selectors.rep_may_claim_from(
        rep=rep, lead=lead, engine=selectors.queue_engine()
    ):
        context["pooled"] = True
    else:
        raise Http404("No lead of yours or of your pools has this number.")
    return render(request, "reps/lead.html", context, status=status)


@require_POST
@rep_required
def lead_outcome(request, pk: int):
    """Record contacted / converted / lost / misrouted on my lead, as the API's events endpoint does."""
    lead = get_object_or_404(Lead, pk=pk, owner=request.rep)
    form = OutcomeForm(request.POST)
    if not form.is_valid():
        return _lead_page(request, lead, form=form, status=400)
    kind = form.cleaned_data["type"]
    try:
        lead_event_record(lead_id=lead.pk, type=kind, note=form.cleaned_data["note"], user=request.user)
    except DomainError as err:
        messages.error(request, f"{lead}: {_said(err)}")
        return _back(lead.pk)
    messages.success(request, f"{lead} marked {OUTCOMES[LeadEventType(kind)]}.")
    return _back(lead.pk if kind == LeadEventType.CONTACTED else None)


@require_POST
@rep_required
def lead_claim_view(request, pk: int):
    """Cherry-pick: take this lead from my pool. Two reps at once: one gets it, the other is told."""
    rep, lead = request.rep, get_object_or_404(Lead, pk=pk)
    if lead.owner_id == rep.id and lead.is_open:
        messages.info(request, f"{lead} is yours already.")
        return _back(lead.pk)
    if not selectors.rep_may_claim_from(rep=rep, lead=lead, engine=selectors.queue_engine()):
        raise Http404("No lead of your pools has this number.")
    try:
        lead_claim(lead_id=lead.pk, rep_id=rep.id, user=request.user)
    except RoutingConflict:
        messages.warning(request, f"Too late: another rep was faster, {lead} is no longer in the pool.")
        return _back()
    except DomainError as err:
        messages.error(request, f"You cannot take {lead}: {_said(err)}")
        return _back()
    messages.success(request, f"{lead} is yours now: it is at the top of your leads.")
    return _back(lead.pk)


@require_POST
@rep_required
def lead_claim_next_view(request):
    """Pull: take the oldest lead waiting in my pools that I may take now."""
    try:
        assignment = lead_claim_next(rep_id=request.rep.id, user=request.user)
    except DomainError as err:
        messages.error(request, f"No lead for you now: {_said(err)}")
        return _back()
    if assignment is None:
        messages.info(request, "No lead is waiting in your pools right now.")
        return _back()
    messages.success(
        request, f"{assignment.lead} is yours now (from the pool of “{assignment.rule_name}”): it is at the top."
    )
    return _back(assignment.lead_id)


def _said(err: DomainError) -> str:
    return " ".join(msg for msgs in err.errors.values() for msg in msgs)


class QueueLoginView(auth_views.LoginView):
    template_name = "reps/login.html"
    authentication_form = ThrottledAuthenticationForm  # the same failure limits as the other log-ins
    redirect_authenticated_user = True
    next_page = "/"  # the home page sends each user to their place


class QueueLogoutView(auth_views.LogoutView):
    next_page = reverse_lazy("queue:login")
