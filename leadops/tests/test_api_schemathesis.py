"""Schemathesis against /api/schema/ (issue 13, defects 4 and 8): every documented operation, fed
generated input, never answers a 5xx, and every answer (status code, content type, headers, body)
is one the schema documents. A bounded number of examples per operation keeps it under a minute."""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from leadops.tests.factories import IntegrationFactory, LeadFactory
from reps.tests.factories import RepFactory
from routing.tests.factories import AssignmentFactory

pytestmark = pytest.mark.database_independent

EXAMPLES_PER_OPERATION = 40
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@pytest.fixture
def wsgi_app(db):
    """The real WSGI app, in the test's transaction: like Django's test client, it must not close the
    connection at the end of each request."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield get_wsgi_application()
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def api_schema(wsgi_app):
    return schemathesis.openapi.from_wsgi("/api/schema/?format=json", wsgi_app)


@pytest.fixture
def api_key(db):
    """An integration with leads of its own, one assigned with a decision."""
    integration = IntegrationFactory(name="Fuzz", rate_limit_per_minute=10_000_000, allowed_sources=["web_form"])
    rep = RepFactory()
    lead = LeadFactory(integration=integration, source="Fuzz", status="assigned", owner=rep)
    AssignmentFactory(lead=lead, rep=rep, reason={"rules": [{"rule": "R1", "result": "decided"}]})
    LeadFactory(integration=integration, source="Fuzz", status="unroutable")
    return integration.raw_key


BOUNDED = settings(
    max_examples=EXAMPLES_PER_OPERATION, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True
)


def test_the_api_answers_every_generated_request_as_its_schema_says(api_schema, api_key):
    # (schemathesis' own pytest fixture loader does not run under pytest 9; one test walks the operations)
    headers = {"Authorization": f"Token {api_key}"}
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert {op.label for op in operations} >= {
        "GET /api/leads/",
        "POST /api/leads/",
        "POST /api/leads/bulk/",
        "GET /api/leads/{id}/",
        "POST /api/leads/{id}/events/",
    }
    for operation in operations:

        @BOUNDED
        @given(case=operation.as_strategy())
        def answers_as_documented(case):
            case.call_and_validate(headers=headers, checks=CHECKS)

        answers_as_documented()
