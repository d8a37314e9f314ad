"""Posting the same lead at the same time gives one lead (PRODUCT.md "Lost nothing")."""

import threading

import pytest
from django.db import connection

from leadops.models import Lead
from leadops.services import leads_store
from leadops.services.normalise import lead_input_clean
from leadops.tests.conftest import client_for
from leadops.tests.factories import IntegrationFactory


def race(count, work):
    """Run `work()` in `count` threads released together; return their results."""
    barrier = threading.Barrier(count)
    results, errors = [None] * count, []

    def run(i):
        try:
            barrier.wait()
            results[i] = work()
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    return results


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_identical_posts_at_the_same_time_give_one_lead_one_201_and_200s_with_its_id():
    integration = IntegrationFactory(rate_limit_per_minute=1000, allowed_sources=["webform"])
    body = {"source": "webform", "external_id": "RACE-1", "email": "race@example.com"}

    def post():
        response = client_for(integration).post("/api/leads/", body, format="json")
        return response.status_code, response.json()["id"]

    results = race(8, post)
    assert sorted(code for code, _ in results) == [200] * 7 + [201]
    assert len({lead_id for _, lead_id in results}) == 1
    assert Lead.objects.filter(source="webform", external_id="RACE-1").count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_identical_bulk_posts_at_the_same_time_store_each_lead_once():
    integration = IntegrationFactory(rate_limit_per_minute=1000, allowed_sources=["webform"])
    items = [{"source": "webform", "external_id": f"B-{i}", "phone": str(i)} for i in range(150)]  # Postgres: COPY

    def post():
        response = client_for(integration).post("/api/leads/bulk/", items, format="json")
        assert response.status_code == 200
        return response.json()

    first, second = race(2, post)
    assert Lead.objects.count() == 150
    for a, b in zip(first, second, strict=False):
        assert a["id"] == b["id"]
        assert sorted([a["status"], b["status"]]) in (["created", "duplicate"], ["duplicate", "duplicate"])
    assert sum(r["status"] == "created" for r in first + second) == 150


@pytest.mark.django_db
def test_a_key_stored_between_the_lookup_and_the_insert_is_answered_as_a_duplicate(monkeypatch):
    """The path two racing writers take: the lookup saw nothing, the unique index refuses the second insert."""
    facts, _ = lead_input_clean({"source": "web", "external_id": "L-1", "email": "a@example.com"}, default_source="x")
    winner = leads_store(entries=[(0, dict(facts))])[0]
    monkeypatch.setattr("leadops.services.leads.lead_keys_stored", lambda keys: {})
    other, _ = lead_input_clean({"phone": "1"}, default_source="x")
    late, fresh = leads_store(entries=[(0, dict(facts)), (1, other)])
    assert (late.status, late.lead_id) == ("duplicate", winner.lead_id)
    assert fresh.status == "created"
    assert Lead.objects.count() == 2
