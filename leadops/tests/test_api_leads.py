"""POST/GET /api/leads/ as an integration developer sees them (PRODUCT.md "REST API")."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from leadops.models import Lead
from leadops.tests.conftest import client_for
from leadops.tests.factories import IntegrationFactory, LeadFactory
from reps.tests.factories import RepFactory
from routing.tests.factories import AssignmentFactory

pytestmark = pytest.mark.django_db

LEAD_KEYS = {
    "id",
    "external_id",
    "source",
    "status",
    "owner",
    "assignment",
    "email",
    "email_domain",
    "first_name",
    "last_name",
    "phone",
    "company",
    "industry",
    "company_size",
    "annual_revenue",
    "country",
    "region",
    "city",
    "postal_code",
    "product_interest",
    "score",
    "language",
    "extra",
    "created_at",
    "assigned_at",
    "first_contacted_at",
    "closed_at",
}


def post(api, body, path="/api/leads/"):
    return api.post(path, body, format="json")


def test_a_new_lead_is_stored_pending_and_answered_201_with_the_lead(api, routing_calls):
    response = post(
        api,
        {
            "external_id": "F-1",
            "email": " Ana.Ruiz@Example.COM ",
            "country": "de",
            "region": "by",
            "company_size": "250",
            "annual_revenue": 1200000,
            "score": 80,
            "extra": {"campaign": "spring"},
        },
    )
    assert response.status_code == 201
    body = response.json()
    assert set(body) == LEAD_KEYS
    assert body["status"] == "pending" and body["owner"] is None and body["assignment"] is None
    assert body["email"] == "ana.ruiz@example.com" and body["email_domain"] == "example.com"
    assert body["country"] == "DE" and body["region"] == "BY"
    assert body["company_size"] == 250 and body["annual_revenue"] == 1200000 and body["extra"] == {"campaign": "spring"}
    assert body["source"] == "Web form"  # the integration's name when the client sends none
    lead = Lead.objects.get(pk=body["id"])
    assert lead.email_domain == "example.com" and lead.integration.name == "Web form"
    assert routing_calls == [[body["id"]]]


def test_the_same_source_and_external_id_again_answers_200_with_the_same_lead(api, integration, routing_calls):
    integration.allowed_sources = ["webform"]
    integration.save()
    first = post(api, {"source": "webform", "external_id": "A-7", "email": "a@example.com"})
    again = post(api, {"source": "webform", "external_id": "A-7", "email": "other@example.com"})
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"] and again.json()["email"] == "a@example.com"
    assert Lead.objects.count() == 1
    assert routing_calls == [[first.json()["id"]]]


def test_leads_without_external_id_are_never_deduplicated(api):
    assert post(api, {"email": "a@example.com"}).status_code == 201
    assert post(api, {"email": "a@example.com"}).status_code == 201
    assert Lead.objects.count() == 2


def test_bad_input_gets_400_naming_each_bad_field(api):
    response = post(
        api,
        {
            "email": "not-an-email",
            "country": "Germany",
            "score": 101,
            "company_size": -3,
            "annual_revenue": "lots",
            "first_name": "x" * 81,
            "campaign": "spring",
            "status": "assigned",
        },
    )
    assert response.status_code == 400
    errors = response.json()
    assert set(errors) == {
        "email",
        "country",
        "score",
        "company_size",
        "annual_revenue",
        "first_name",
        "campaign",
        "status",
    }
    assert "extra" in errors["campaign"][0]
    assert "Read-only" in errors["status"][0]
    assert Lead.objects.count() == 0


def test_a_lead_needs_an_email_or_a_phone(api):
    response = post(api, {"first_name": "Ana"})
    assert response.status_code == 400 and set(response.json()) == {"email"}
    assert post(api, {"phone": "+49 89 1234"}).status_code == 201


@pytest.mark.parametrize("body", [[], "lead", 42, None])
def test_a_body_that_is_not_an_object_gets_400(api, body):
    response = api.post("/api/leads/", json.dumps(body), content_type="application/json")
    assert response.status_code == 400


def test_malformed_json_gets_400_and_other_content_types_415(api):
    assert api.post("/api/leads/", "{", content_type="application/json").status_code == 400
    assert api.post("/api/leads/", "email=a@b.co", content_type="application/x-www-form-urlencoded").status_code == 415


def test_no_key_gets_401_and_a_revoked_key_gets_401(integration):
    assert APIClient().post("/api/leads/", {"email": "a@b.co"}, format="json").status_code == 401
    integration.active = False
    integration.save()
    response = client_for(integration).get("/api/leads/")
    assert response.status_code == 401 and response["WWW-Authenticate"] == "Token"


def test_another_integrations_lead_gets_404_like_a_lead_that_does_not_exist(api):
    other = LeadFactory(integration=IntegrationFactory(), status="unroutable")
    missing = api.get("/api/leads/987654/")
    assert missing.status_code == 404
    assert api.get(f"/api/leads/{other.pk}/").json() == missing.json()
    event = api.post(f"/api/leads/{other.pk}/events/", {"type": "lost"}, format="json")
    assert event.status_code == 404 and event.json() == missing.json()
    other.refresh_from_db()
    assert other.status == "unroutable" and not other.events.exists()


def test_an_external_id_a_lead_not_sent_by_this_integration_holds_gets_409(api, integration):
    integration.allowed_sources = ["shared"]
    integration.save()
    LeadFactory(integration=None, source="shared", external_id="X-1")  # imported by ops
    response = post(api, {"source": "shared", "external_id": "X-1", "email": "a@example.com"})
    assert response.status_code == 409 and "external_id" in response.json()
    assert Lead.objects.count() == 1


def test_get_shows_the_owner_and_the_current_assignment_with_rule_name_and_reason(api, integration):
    rep = RepFactory(name="Ana Ruiz", email="ana@example.com")
    lead = LeadFactory(integration=integration, status="assigned", owner=rep)
    AssignmentFactory(
        lead=lead,
        rep=rep,
        rule__name="DACH airlines",
        strategy="round_robin",
        reason={"rules": [{"rule": "DACH airlines", "result": "decided"}]},
    )
    body = api.get(f"/api/leads/{lead.pk}/").json()
    assert body["owner"] == {"id": rep.pk, "email": "ana@example.com", "name": "Ana Ruiz"}
    assignment = body["assignment"]
    assert set(assignment) == {
        "rule",
        "strategy",
        "decided_by",
        "assigned_at",
        "reason",
        "sla_due_at",
        "sla_breached_at",
    }
    assert assignment["rule"] == "DACH airlines" and assignment["strategy"] == "round_robin"
    assert assignment["decided_by"] == "engine"
    assert assignment["reason"] == {"rules": [{"rule": "DACH airlines", "result": "decided"}]}


def test_an_unroutable_lead_shows_its_trace_with_rule_null(api, integration):
    lead = LeadFactory(integration=integration, status="unroutable")
    AssignmentFactory(
        lead=lead,
        outcome="unroutable",
        rep=None,
        rule=None,
        rule_name="",
        strategy="",
        reason={"rules": [{"rule": "R1", "result": "no eligible rep"}]},
    )
    assignment = api.get(f"/api/leads/{lead.pk}/").json()["assignment"]
    assert assignment["rule"] is None and assignment["reason"]["rules"][0]["rule"] == "R1"


def test_the_list_shows_only_the_integrations_own_leads_paginated(api, integration):
    mine = LeadFactory.create_batch(3, integration=integration)
    LeadFactory.create_batch(2, integration=IntegrationFactory())
    body = api.get("/api/leads/").json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] == 3 and {r["id"] for r in body["results"]} == {lead.pk for lead in mine}


def test_the_list_filters_by_status_owner_id_or_email_source_and_created_range(api, integration):
    rep = RepFactory(email="ana@example.com")
    now = timezone.now()
    assigned = LeadFactory(integration=integration, status="assigned", owner=rep, source="webinar")
    old = LeadFactory(integration=integration, source="partner", created_at=now - timedelta(days=10))

    def ids(query):
        response = api.get(f"/api/leads/?{query}")
        assert response.status_code == 200, response.content
        return {r["id"] for r in response.json()["results"]}

    assert ids("status=assigned") == {assigned.pk}
    assert ids(f"owner={rep.pk}") == {assigned.pk}
    assert ids("owner=ANA@example.com") == {assigned.pk}
    assert ids("source=partner") == {old.pk}
    before = (now - timedelta(days=5)).isoformat().replace("+00:00", "Z")
    assert ids(f"created_before={before}") == {old.pk}
    assert ids(f"created_after={before}") == {assigned.pk}
    assert api.get("/api/leads/?status=bogus").status_code == 400
    assert api.get("/api/leads/?created_after=yesterday").status_code == 400


def test_the_list_costs_the_same_queries_for_many_leads(api, integration, django_assert_max_num_queries):
    for lead in LeadFactory.create_batch(5, integration=integration, status="assigned", owner=RepFactory()):
        AssignmentFactory(lead=lead, rep=lead.owner)
    with django_assert_max_num_queries(5):  # auth, count, page, assignments (+ last_used_at once a minute)
        assert len(api.get("/api/leads/").json()["results"]) == 5


def test_staff_may_use_the_browsable_api_but_other_users_may_not(admin_client, django_user_model):
    assert admin_client.get("/api/leads/", HTTP_ACCEPT="text/html").status_code == 200
    assert (
        admin_client.post("/api/leads/", {"email": "a@example.com"}, content_type="application/json").status_code == 201
    )
    assert Lead.objects.get().source == "manual"
    user = django_user_model.objects.create_user("rep", password="pw-12345-long")
    client = APIClient()
    client.force_login(user)
    assert client.get("/api/leads/").status_code == 403


def test_bulk_answers_per_item_results_in_order_and_stores_the_valid_ones(api, integration, routing_calls):
    LeadFactory(integration=integration, source="Web form", external_id="OLD-1")
    items = [
        {"external_id": "B-1", "email": "one@example.com"},
        {"external_id": "B-2", "email": "broken"},
        {"external_id": "B-1", "email": "one-again@example.com"},
        {"external_id": "OLD-1", "email": "old@example.com"},
        {"phone": "+1 555 0100"},
        "not an object",
    ]
    response = post(api, items, path="/api/leads/bulk/")
    assert response.status_code == 200
    results = response.json()
    assert [r["index"] for r in results] == [0, 1, 2, 3, 4, 5]
    assert [r["status"] for r in results] == ["created", "error", "duplicate", "duplicate", "created", "error"]
    assert set(results[0]) == {"index", "status", "id"} and set(results[1]) == {"index", "status", "errors"}
    assert results[1]["errors"] == {"email": ["“broken” is not a valid email address."]}
    assert results[2]["id"] == results[0]["id"]
    assert results[3]["id"] == Lead.objects.get(external_id="OLD-1").pk
    assert Lead.objects.count() == 3
    assert sorted(routing_calls[0]) == sorted([results[0]["id"], results[4]["id"]])


def test_a_large_batch_stores_every_fact_of_every_lead(api, integration, routing_calls):
    items = [
        {
            "external_id": f"L-{i}",
            "email": f"Lead{i}@Firm.example",
            "country": "at",
            "company_size": i,
            "annual_revenue": "10.5",
            "extra": {"i": i},
        }
        for i in range(150)
    ]
    results = post(api, items, path="/api/leads/bulk/").json()
    assert [r["status"] for r in results] == ["created"] * 150
    lead = Lead.objects.get(pk=results[7]["id"])
    assert (lead.external_id, lead.email, lead.email_domain, lead.country, lead.company_size) == (
        "L-7",
        "lead7@firm.example",
        "firm.example",
        "AT",
        7,
    )
    assert (str(lead.annual_revenue), lead.extra, lead.status, lead.integration_id, lead.source) == (
        "10.50",
        {"i": 7},
        "pending",
        integration.pk,
        "Web form",
    )
    assert lead.created_at is not None and lead.owner_id is None and lead.phone == ""
    assert sorted(sum(routing_calls, [])) == sorted(r["id"] for r in results)


def test_bulk_takes_at_most_1000_leads_and_only_a_list(api):
    response = post(api, [{"phone": "1"}] * 1001, path="/api/leads/bulk/")
    assert response.status_code == 400 and "1,000" in response.json()["non_field_errors"][0]
    assert post(api, {"phone": "1"}, path="/api/leads/bulk/").status_code == 400
    assert Lead.objects.count() == 0
    assert post(api, [{"phone": "1"}] * 1000, path="/api/leads/bulk/").status_code == 200
    assert Lead.objects.count() == 1000


def test_a_body_over_the_limit_gets_413_json_and_stores_nothing(api, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2000
    response = post(api, [{"phone": "1", "company": "x" * 150}] * 20, path="/api/leads/bulk/")
    assert response.status_code == 413 and "detail" in response.json()
    assert Lead.objects.count() == 0


def test_djangos_request_data_too_big_is_answered_413_not_500():
    from django.core.exceptions import RequestDataTooBig

    from leadops.api.exception_handlers import api_exception_handler

    response = api_exception_handler(RequestDataTooBig("too big"), {})
    assert response.status_code == 413 and "larger than" in response.data["detail"]


def test_form_bodies_are_refused_with_415(admin_client):
    assert admin_client.post("/api/leads/", {"email": "a@example.com"}).status_code == 415


def test_over_the_integrations_rate_gets_429_with_retry_after(db, one_rate_window):
    integration = IntegrationFactory(rate_limit_per_minute=3)
    api = client_for(integration)
    codes = [api.get("/api/leads/").status_code for _ in range(5)]
    assert codes[:3] == [200, 200, 200] and codes[3:] == [429, 429]
    assert 0 < int(api.get("/api/leads/")["Retry-After"]) <= 30  # the window's half left
    assert client_for(IntegrationFactory()).get("/api/leads/").status_code == 200  # each integration has its own count


def test_the_server_default_rate_applies_when_the_integration_has_none(db, settings, one_rate_window):
    settings.API_RATE_LIMIT_PER_MINUTE = 2
    api = client_for(IntegrationFactory())
    assert [api.get("/api/leads/").status_code for _ in range(3)] == [200, 200, 429]


def test_schema_and_docs_are_served_without_outside_network(client):
    schema = client.get("/api/schema/?format=json")
    assert schema.status_code == 200
    paths = json.loads(schema.content)["paths"]
    assert {"/api/leads/", "/api/leads/bulk/", "/api/leads/{id}/", "/api/leads/{id}/events/"} <= set(paths)
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    html = docs.content.decode()
    assert "swagger-ui" in html and "cdn" not in html.lower() and "/static/drf_spectacular_sidecar/" in html


def test_healthz_answers_200_when_the_database_answers(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json()["database"] == "ok"


def test_healthz_answers_503_naming_redis_when_it_is_down(client, settings, monkeypatch):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    monkeypatch.setattr("leadops.views._redis_ok", lambda: False)
    response = client.get("/healthz")
    assert response.status_code == 503 and response.json()["down"] == ["redis"]


def test_a_post_still_stores_the_lead_when_redis_is_down(api, monkeypatch):
    import redis

    def refuse(*args, **kwargs):
        raise redis.ConnectionError("Redis is down")

    monkeypatch.setattr("routing.services.enqueue.django_rq.get_queue", refuse)
    monkeypatch.setattr("leadops.api.throttling._count", refuse)
    response = post(api, {"external_id": "R-DOWN", "email": "a@example.com"})
    assert response.status_code == 201
    assert Lead.objects.get(pk=response.json()["id"]).status == "pending"  # route_pending sweeps it later
