"""A database restart gives no 500 (issue 13, defect 5): persistent connections are health-checked
before reuse, and anything unexpected in the API is a JSON 500 a client can read and retry."""

import json

import psycopg
import pytest
from django.conf import settings
from django.core.wsgi import get_wsgi_application
from django.db import connection, connections
from werkzeug.test import Client

from leadops.tests.factories import IntegrationFactory


def test_persistent_connections_are_health_checked():
    assert settings.DATABASES["default"]["CONN_HEALTH_CHECKS"] is True


@pytest.fixture
def wsgi_client(settings):
    """The real WSGI handler (with its request_started / request_finished connection handling, which
    Django's test client switches off), persistent connections, and an integration's key header."""
    settings.DATABASES["default"]["CONN_MAX_AGE"] = 60
    connection.settings_dict["CONN_MAX_AGE"] = 60
    integration = IntegrationFactory(rate_limit_per_minute=1_000_000)
    connection.close()
    return Client(get_wsgi_application()), {"Authorization": f"Token {integration.raw_key}"}, integration


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_request_after_the_database_dropped_its_connection_succeeds(wsgi_client):
    """Two requests, the backend killed between them."""
    client, headers, _ = wsgi_client
    first = client.get("/api/leads/", headers=headers)
    assert first.status_code == 200
    assert connection.connection is not None, "the connection should persist between requests"
    pid = connection.connection.info.backend_pid

    _terminate(pid)
    second = client.get("/api/leads/", headers=headers)
    assert second.status_code == 200, second.get_data(as_text=True)[:300]
    assert connection.connection.info.backend_pid != pid


@pytest.mark.django_db
def test_an_unexpected_error_in_the_api_is_a_json_500(api, monkeypatch, caplog):
    def broken(**kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr("leadops.api.views.lead_list", broken)
    response = api.get("/api/leads/")
    assert response.status_code == 500
    assert response["Content-Type"] == "application/json"
    assert set(json.loads(response.content)) == {"detail"}
    assert "boom" not in response.content.decode()
    assert any(record.exc_info and "boom" in str(record.exc_info[1]) for record in caplog.records)


def _terminate(pid: int) -> None:
    dsn = connection.get_connection_params()
    dsn.pop("cursor_factory", None)
    dsn.pop("context", None)
    with psycopg.connect(**dsn, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [pid])


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_post_after_the_database_dropped_its_connection_stores_the_lead_once(wsgi_client, monkeypatch):
    """The key lookup is a post's first statement and stands in for the health check's `SELECT 1` (one
    round trip less per post): a dead connection is found by it, replaced, and the post goes on."""
    from leadops.models import Lead

    client, headers, integration = wsgi_client
    source = integration.sources[0]

    def post(external_id):
        lead = {"external_id": external_id, "email": "ana@acme.example"}
        return client.post("/api/leads/", json=lead, headers=headers)

    assert post("F-1").status_code == 201
    pid = connection.connection.info.backend_pid
    health_checks = []
    monkeypatch.setattr(type(connections["default"]), "is_usable", lambda self: health_checks.append(1) or True)

    assert post("F-2").status_code == 201
    assert health_checks == [], "a healthy connection: the key lookup was the only check"
    assert connection.connection.info.backend_pid == pid

    _terminate(pid)
    second = post("F-3")
    assert second.status_code == 201, second.get_data(as_text=True)[:300]
    assert connection.connection.info.backend_pid != pid
    assert health_checks == []
    assert list(Lead.objects.filter(source=source).order_by("external_id").values_list("external_id", flat=True)) == [
        "F-1",
        "F-2",
        "F-3",
    ]
