"""POST /api/leads/ with an integration key, answered without Django's handler, its middleware and DRF.

It is the call integrations make most, and about a quarter of its CPU in the worker went to that machinery
(a post's CPU in one process: 0.85-0.99 ms here against 1.16-1.33 ms through it; bench/intake.py, README).
Here it runs the same parts as the full stack's view (the key lookup, lead_input_checked, the rate limit,
leads_store, LeadSerializer, DRF's JSON renderer, the security middleware's headers) and answers only when it
created the lead: 201. Everything else goes on, untouched, to the full stack, which answers it as always:
another path, method or query string, no key, a bad or revoked one, a host not allowed or the HTTPS redirect,
a body that is not one JSON object of good fields, the rate limit reached, a repeat or a clash of (source,
external_id). A request handed on after it was counted against the rate limit carries its count
(throttling.COUNTED), so it is counted once.
leadops/tests/test_api_lean.py holds both paths' answers equal.
"""

from __future__ import annotations

import io

from django.conf import settings
from django.core import signals
from django.core.exceptions import DisallowedHost
from django.core.handlers.wsgi import WSGIRequest, get_script_name
from django.http import HttpResponse
from django.middleware.security import SecurityMiddleware
from django.urls import set_script_prefix

from leadops.api.authentication import integration_for_key
from leadops.api.exception_handlers import SERVER_ERROR
from leadops.api.exception_handlers import logger as request_logger
from leadops.api.parsers import json_loads
from leadops.api.serializers import LeadSerializer
from leadops.api.throttling import COUNTED, rate_limit_count, within_rate_limit
from leadops.api.views import JSON_RENDERER, LeadListCreateView
from leadops.errors import DomainError
from leadops.services import CREATED, integration_source, lead_input_checked, leads_store

PATH = "/api/leads/"
JSON_TYPES = {"application/json", "application/json; charset=utf-8"}
HEADER_ENCODING = "iso-8859-1"  # how DRF reads the Authorization header


def _allowed_methods() -> str:
    view = LeadListCreateView()
    view.setup(None)  # as a request does: HEAD where GET is
    return ", ".join(view.allowed_methods)


# What the full stack's answer carries besides the security headers (DRF's view: its methods, and Vary
# because the view can also render the browsable API).
VIEW_HEADERS = (("Vary", "Accept"), ("Allow", _allowed_methods()))
_security = SecurityMiddleware(lambda request: None)


def takes(environ) -> bool:
    """Whether the request may be a lead post with a key (read from the environ alone; no body, no database)."""
    return (
        environ.get("REQUEST_METHOD") == "POST"
        and environ.get("PATH_INFO") == PATH
        and not environ.get("QUERY_STRING")
        and environ.get("CONTENT_TYPE") in JSON_TYPES
        and environ.get("HTTP_AUTHORIZATION", "")[:6].lower() == "token "
        and environ.get("CONTENT_LENGTH", "").isdigit()
        and 0 < int(environ["CONTENT_LENGTH"]) <= (settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 0)
    )


def lead_post(environ, start_response, full_stack):
    """Answer a lead post that `takes`; hand anything else, or anything but a new lead, to `full_stack`."""
    request = WSGIRequest(environ)
    try:
        request.get_host()  # ALLOWED_HOSTS, as CommonMiddleware checks it
    except DisallowedHost:
        return full_stack(environ, start_response)
    if _security.process_request(request) is not None:  # the HTTPS redirect
        return full_stack(environ, start_response)
    length = int(environ["CONTENT_LENGTH"])
    try:
        body = environ["wsgi.input"].read(length)
    except OSError:  # the client went away mid-body
        body = b""
    environ["wsgi.input"] = io.BytesIO(body)  # the full stack reads it again if handed on
    data = _json_object(body) if len(body) == length else None
    key = _key(environ["HTTP_AUTHORIZATION"])
    if data is None or key is None:  # a short body too: answered as the full stack answers it
        return full_stack(environ, start_response)

    set_script_prefix(get_script_name(environ))
    signals.request_started.send(sender=lead_post, environ=environ)  # connection upkeep, as Django does
    try:
        lead = _create(data, key, environ)
        if lead is None:
            signals.request_finished.send(sender=lead_post)
            return full_stack(environ, start_response)
        response = _json(201, LeadSerializer(lead).data)
    except Exception as exc:  # as the full stack's exception handler answers it
        request_logger.error("Internal Server Error: %s", PATH, exc_info=exc, extra={"status_code": 500})
        response = _json(500, {"detail": SERVER_ERROR})
    _security.process_response(request, response)
    start_response(f"{response.status_code} {response.reason_phrase}", list(response.items()))
    return response  # its close() sends request_finished


def _create(data: dict, key: str, environ):
    """The new lead; None for anything the full stack must answer (having counted the request, if it did)."""
    integration = integration_for_key(key)
    if integration is None:
        return None
    try:
        facts = lead_input_checked(data=data, integration=integration, default_source=integration_source(integration))
    except DomainError:
        return None
    environ[COUNTED] = count = rate_limit_count(integration)
    if not within_rate_limit(integration, count):
        return None
    result = leads_store(entries=[(0, facts)], integration=integration)[0]
    if result.status != CREATED or result.lead is None:
        return None
    result.lead.current_assignments = []  # just inserted: routing decides after commit
    return result.lead


def _json_object(body: bytes) -> dict | None:
    """The body as the API's parser reads it, when it is a JSON object; else None."""
    try:
        data = json_loads(body, "utf-8")
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        return None
    return data if isinstance(data, dict) else None


def _key(header: str) -> str | None:
    """The key of `Token <key>`, split and decoded as DRF's authentication does; None otherwise."""
    try:
        parts = header.encode(HEADER_ENCODING).split()
        return parts[1].decode() if len(parts) == 2 and parts[0].lower() == b"token" else None
    except UnicodeError:
        return None


def _json(status: int, data) -> HttpResponse:
    content = JSON_RENDERER.render(data)
    response = HttpResponse(content, status=status, content_type=JSON_RENDERER.media_type)
    for name, value in VIEW_HEADERS:
        response[name] = value
    response["Content-Length"] = str(len(content))
    return response
