"""Fixtures for the intake tests: an integration and an API client that sends its key."""

import time
from types import SimpleNamespace

import pytest
from rest_framework.test import APIClient

from leadops.tests.factories import IntegrationFactory


def client_for(integration) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {integration.raw_key}")
    return client


@pytest.fixture
def integration(db):
    return IntegrationFactory(name="Web form")


@pytest.fixture
def api(integration) -> APIClient:
    return client_for(integration)


@pytest.fixture
def routing_calls(monkeypatch):
    """The lead ids intake handed to routing, in calls; routing itself is not run."""
    calls: list[list[int]] = []
    monkeypatch.setattr(
        "leadops.services.leads.leads_enqueue_routing", lambda ids, **kw: calls.append(list(ids)) if ids else None
    )
    monkeypatch.setattr("routing.services.assignments.leads_enqueue_routing", lambda ids, **kw: calls.append(list(ids)))
    return calls


@pytest.fixture
def one_rate_window(monkeypatch):
    """The rate limit counts in fixed one-minute windows: a test counting a few requests must not see the
    count start again because the minute turned while it ran. Its clock stands mid-minute."""
    now = time.time()
    monkeypatch.setattr("leadops.api.throttling.time", SimpleNamespace(time=lambda: now - now % 60 + 30))
