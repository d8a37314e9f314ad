"""Integrations own their sources (issue 13, defect 3): an integration posts only under its own name or
the sources ops give it in the admin, and another integration's lead is not there for it (404)."""

import pytest

from leadops.models import Integration, Lead
from leadops.tests.conftest import client_for
from leadops.tests.factories import IntegrationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def website():
    return IntegrationFactory(name="Website forms", allowed_sources=["web_form"])


@pytest.fixture
def crm():
    return IntegrationFactory(name="CRM")


def test_an_integration_cannot_squat_another_integrations_source(website, crm):
    squat = client_for(crm).post(
        "/api/leads/", {"external_id": "future-1", "source": "Website forms", "email": "a@example.com"}, format="json"
    )
    assert squat.status_code == 403
    assert squat.json() == {
        "source": [
            "This integration may post only under its own sources: “CRM”. "
            "Leave `source` out to use its name; ops can give it more sources in the admin."
        ]
    }
    assert not Lead.objects.exists()
    own = client_for(website).post(
        "/api/leads/", {"external_id": "future-1", "source": "Website forms", "email": "a@example.com"}, format="json"
    )
    assert own.status_code == 201


def test_an_integration_posts_under_its_name_by_default_and_under_the_sources_ops_gave_it(website):
    api = client_for(website)
    assert api.post("/api/leads/", {"email": "a@example.com"}, format="json").json()["source"] == "Website forms"
    response = api.post("/api/leads/", {"email": "b@example.com", "source": "web_form"}, format="json")
    assert response.status_code == 201 and response.json()["source"] == "web_form"
    refused = api.post("/api/leads/", {"email": "c@example.com", "source": "webinar"}, format="json")
    assert refused.status_code == 403 and "“Website forms”, “web_form”" in refused.json()["source"][0]


def test_bulk_refuses_items_under_another_source_and_stores_the_rest(website, crm):
    results = (
        client_for(crm)
        .post(
            "/api/leads/bulk/",
            [{"phone": "1", "source": "web_form"}, {"phone": "2"}, {"phone": "3", "source": "CRM"}],
            format="json",
        )
        .json()
    )
    assert [r["status"] for r in results] == ["error", "created", "created"]
    assert "“CRM”" in results[0]["errors"]["source"][0]
    assert set(Lead.objects.values_list("source", flat=True)) == {"CRM"}


def test_another_integrations_lead_cannot_be_read_or_changed(website, crm):
    lead_id = client_for(website).post("/api/leads/", {"email": "a@example.com"}, format="json").json()["id"]
    api = client_for(crm)
    assert api.get(f"/api/leads/{lead_id}/").status_code == 404
    assert api.post(f"/api/leads/{lead_id}/events/", {"type": "lost"}, format="json").status_code == 404
    assert api.get("/api/leads/").json()["count"] == 0
    assert Lead.objects.get(pk=lead_id).status != "lost"


def test_ops_give_sources_in_the_admin_one_per_line(admin_client, website):
    crm = IntegrationFactory(name="CRM")
    url = f"/admin/leadops/integration/{crm.pk}/change/"
    page = admin_client.get(url).content.decode()
    assert 'name="allowed_sources"' in page and "<textarea" in page
    response = admin_client.post(
        url,
        {"name": "CRM", "active": "on", "rate_limit_per_minute": "", "allowed_sources": " salesforce \n\nhubspot\n"},
    )
    assert response.status_code == 302
    crm.refresh_from_db()
    assert crm.allowed_sources == ["salesforce", "hubspot"] and crm.sources == ["CRM", "salesforce", "hubspot"]
    assert "salesforce\nhubspot" in admin_client.get(url).content.decode()
    assert "CRM, salesforce, hubspot" in admin_client.get("/admin/leadops/integration/").content.decode()


@pytest.mark.parametrize("taken", ["web_form", "Website forms"])
def test_the_admin_refuses_a_source_that_is_another_integrations(admin_client, website, taken):
    crm = IntegrationFactory(name="CRM")
    response = admin_client.post(
        f"/admin/leadops/integration/{crm.pk}/change/",
        {"name": "CRM", "active": "on", "rate_limit_per_minute": "", "allowed_sources": f"hubspot\n{taken}"},
    )
    assert response.status_code == 200
    assert f"“{taken}” is a source of the integration “Website forms”." in response.content.decode()
    crm.refresh_from_db()
    assert crm.allowed_sources == []


def test_a_new_integration_cannot_be_named_after_another_integrations_source(admin_client, website):
    response = admin_client.post(
        "/admin/leadops/integration/add/",
        {"name": "web_form", "active": "on", "rate_limit_per_minute": "", "allowed_sources": ""},
    )
    assert response.status_code == 200 and "is a source of the integration “Website forms”" in response.content.decode()
    assert not Integration.objects.filter(name="web_form").exists()
    created = admin_client.post(
        "/admin/leadops/integration/add/",
        {"name": "Partner portal", "active": "on", "rate_limit_per_minute": "", "allowed_sources": "partner_portal"},
    )
    assert created.status_code == 302
    assert Integration.objects.get(name="Partner portal").allowed_sources == ["partner_portal"]
