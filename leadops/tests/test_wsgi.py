"""The production WSGI entry point: API calls take the lean middleware stack, pages the full one,
and a post through it is the same post as through the test client."""

import json

import pytest
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import RequestFactory

from leadops import wsgi
from leadops.models import Lead


@pytest.fixture
def call(db):
    """Call leadops.wsgi.application as gunicorn does; the test's transaction stays open (as Django's client does)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)

    def run(request):
        answer = {}

        def start_response(status, headers):
            answer["status"], answer["headers"] = int(status.split()[0]), dict(headers)

        body = b"".join(wsgi.application(request.environ, start_response))
        return answer["status"], answer["headers"], body

    yield run
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def test_a_lead_posted_through_the_wsgi_entry_point_is_stored_and_answered_201_in_json(call, integration):
    request = RequestFactory().post(
        "/api/leads/",
        {"external_id": "W-1", "email": "ana@acme.example", "country": "DE"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Token {integration.raw_key}",
        HTTP_ACCEPT="text/html",
    )
    status, headers, body = call(request)
    assert (status, headers["Content-Type"]) == (201, "application/json")
    lead = Lead.objects.get(pk=json.loads(body)["id"])
    assert (lead.external_id, lead.integration_id) == ("W-1", integration.pk)
    assert "X-Frame-Options" not in headers  # the API's lean stack: no page-only middleware
    status, headers, _ = call(RequestFactory().get("/reports/login/"))
    assert (status, headers["X-Frame-Options"]) == (200, "DENY")  # pages keep the full stack


def test_the_api_docs_pages_keep_the_full_stack(call):
    status, headers, _ = call(RequestFactory().get("/api/docs/"))
    assert (status, headers.get("X-Frame-Options")) == (200, "DENY")
