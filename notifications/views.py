"""The demo webhook receiver (it answers only when DEBUG is on: 404 otherwise): it keeps the
last bodies it got and says whether each signature checks out, so ops can watch a real signed
delivery arrive with no outside service."""

from __future__ import annotations

import hmac
import json

from django.conf import settings
from django.contrib.admin.views.decorators import staff_member_required
from django.core.cache import cache
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from notifications.models import Channel
from notifications.services.render import signature

RECEIVED_KEY = "leadops:demo:webhook-received"
KEPT = 20
PATH = "/dev/webhook-receiver/"


@csrf_exempt
def webhook_receiver(request):
    if not settings.DEBUG:
        raise Http404("The demo receiver exists only while DEBUG is on.")
    if request.method == "POST":
        body = request.body
        sent = request.headers.get("X-LeadOps-Signature", "")
        secrets = Channel.objects.filter(url__endswith=PATH).values_list("secret", flat=True)
        valid = bool(sent) and any(hmac.compare_digest(signature(secret, body), sent) for secret in secrets)
        try:
            shown = json.dumps(json.loads(body), indent=2, ensure_ascii=False)
        except ValueError:
            shown = body.decode(errors="replace")
        entry = {
            "at": timezone.now().isoformat(timespec="seconds"),
            "event": request.headers.get("X-LeadOps-Event", ""),
            "delivery": request.headers.get("X-LeadOps-Delivery", ""),
            "signature": sent,
            "valid": valid,
            "body": shown[:20000],
        }
        cache.set(RECEIVED_KEY, [entry, *(cache.get(RECEIVED_KEY) or [])][:KEPT], None)
        return HttpResponse("received", content_type="text/plain")
    return _received_page(request)


@staff_member_required
def _received_page(request):
    return render(request, "notifications/receiver.html", {"received": cache.get(RECEIVED_KEY) or [], "kept": KEPT})
