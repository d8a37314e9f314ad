"""What each delivery says: the signed JSON body, the Slack text, the e-mail.

Rendered when sent, in bulk (a few queries per run): the `lead` object is the lead as
GET /api/leads/{id}/ shows it at sending time; who, why (the trace in words, routing.reasons)
and the SLA due time are those of the decision behind the event (`decided_at`).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from rest_framework.fields import DateTimeField

from leadops.api.serializers import LeadSerializer
from leadops.selectors import lead_list
from notifications.models import Channel, Delivery, Event
from routing.models import Assignment
from routing.reasons import reason_summary, reason_text

FACTS = (
    ("Name", "name"),
    ("E-mail", "email"),
    ("Phone", "phone"),
    ("Company", "company"),
    ("Industry", "industry"),
    ("Employees", "company_size"),
    ("Country", "country"),
    ("Region", "region"),
    ("City", "city"),
    ("Product interest", "product_interest"),
    ("Score", "score"),
    ("Source", "source"),
)
_ISO = DateTimeField()


@dataclass
class Rendered:
    body: bytes
    headers: dict
    subject: str = ""


def signature(secret: str, body: bytes) -> str:
    """`sha256=<hex HMAC-SHA256 of the exact body bytes>`, keyed with the channel's secret."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def body_json(data: dict) -> bytes:
    return json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False, separators=(",", ":")).encode()


def lead_admin_url(lead_id: int) -> str:
    return f"{settings.SITE_URL}{reverse('admin:leadops_lead_change', args=[lead_id])}"


def queue_url(lead_id: int) -> str | None:
    """The lead on the reps' own page (/queue/), where the rep records outcomes; None without it."""
    try:
        return f"{settings.SITE_URL}{reverse('queue:lead', args=[lead_id])}"
    except NoReverseMatch:
        return None


def _local(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M %Z") if moment else ""


def _context(delivery: Delivery, lead, reason) -> dict:
    name = " ".join(p for p in (lead.first_name, lead.last_name) if p)
    facts = []
    for label, attr in FACTS:
        value = name if attr == "name" else getattr(lead, attr)
        if value not in (None, ""):
            facts.append((label, value))
    return {
        "delivery": delivery,
        "event": delivery.event,
        "lead": lead,
        "who": name or lead.email or f"Lead {lead.pk}",
        "title": lead.company or name or lead.email or f"Lead {lead.pk}",
        "rep": delivery.rep.name if delivery.rep_id else "",
        "rule": delivery.rule_name or reason_summary(reason),
        "facts": facts,
        "why": reason_text(reason),
        "why_short": reason_summary(reason),
        "due": _local(delivery.sla_due_at),
        "decided": _local(delivery.decided_at),
        "link": lead_admin_url(lead.pk),
        "queue_link": queue_url(lead.pk),
    }


def slack_text(context: dict) -> str:
    event, lead_line = context["event"], f"{context['title']}"
    due = f" Contact by {context['due']}." if context["due"] else ""
    if event == Event.ASSIGNED:
        head = f"{context['rep']} got a new lead: {lead_line}. Why: {context['why_short']}.{due}"
    elif event == Event.POOLED:
        head = f"New lead waiting in the pool of rule “{context['rule']}”: {lead_line}.{due}"
    elif event == Event.UNROUTABLE:
        head = f"Unroutable lead: {lead_line}. No rule could place it; it waits in the admin's unroutable queue."
    else:
        owner = context["rep"] or "its pool"
        head = f"SLA breached: {lead_line} was not contacted by {context['due']} ({owner}, rule “{context['rule']}”)."
    links = f"<{context['link']}|Open the lead>"
    if context["queue_link"] and event in (Event.ASSIGNED, Event.SLA_BREACHED):
        links += f" · <{context['queue_link']}|In the rep's queue>"
    return f"{head} {links}"


def _reasons(deliveries: list[Delivery]) -> dict:
    """(lead id, decision time) -> the decision's reason trace, in one query (none when no delivery needs it)."""
    if not deliveries:
        return {}
    leads = {d.lead_id for d in deliveries}
    times = {d.decided_at for d in deliveries}
    rows = Assignment.objects.filter(lead_id__in=leads, created_at__in=times).values_list(
        "lead_id", "created_at", "reason"
    )
    return {(lead_id, created): reason for lead_id, created, reason in rows}


def deliveries_render(deliveries: list[Delivery]) -> dict:
    """{delivery id: Rendered}; at most three queries whatever the number of deliveries. A lead
    is serialised once however many channels get it."""
    leads = {lead.pk: lead for lead in lead_list().filter(id__in={d.lead_id for d in deliveries})}
    # Only Slack texts and e-mails say why; a JSON body carries the lead as the API shows it.
    reasons = _reasons([d for d in deliveries if d.channel_id is None or d.channel.format == Channel.Format.SLACK])
    as_api: dict[int, dict] = {}
    out = {}
    for delivery in deliveries:
        lead = leads[delivery.lead_id]
        headers = {"X-LeadOps-Event": delivery.event, "X-LeadOps-Delivery": str(delivery.id)}
        if delivery.channel_id is None:
            reason = reasons.get((delivery.lead_id, delivery.decided_at), {})
            context = _context(delivery, lead, reason)
            kind = "breached" if delivery.event == Event.SLA_BREACHED else "assigned"
            subject = render_to_string(f"notifications/email/{kind}_subject.txt", context).strip()
            body = render_to_string(f"notifications/email/{kind}.txt", context)
            out[delivery.id] = Rendered(body.encode(), headers, " ".join(subject.split()))
        elif delivery.channel.format == Channel.Format.SLACK:
            reason = reasons.get((delivery.lead_id, delivery.decided_at), {})
            text = slack_text(_context(delivery, lead, reason))
            out[delivery.id] = Rendered(body_json({"text": text}), {**headers, "Content-Type": "application/json"})
        else:
            if lead.pk not in as_api:
                as_api[lead.pk] = LeadSerializer(lead).data
            body = body_json(
                {
                    "id": str(delivery.id),
                    "event": delivery.event,
                    "at": _ISO.to_representation(delivery.at),
                    "lead": as_api[lead.pk],
                }
            )
            headers.update(
                {"Content-Type": "application/json", "X-LeadOps-Signature": signature(delivery.channel.secret, body)}
            )
            out[delivery.id] = Rendered(body, headers)
    return out
