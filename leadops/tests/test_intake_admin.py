"""The ops admin for leads and integrations."""

import re

import pytest
from django.urls import reverse

from leadops.models import Integration, Lead
from leadops.tests.conftest import client_for
from leadops.tests.factories import IntegrationFactory, LeadFactory
from reps.tests.factories import RepFactory
from routing.tests.factories import AssignmentFactory

pytestmark = pytest.mark.django_db


def test_the_lead_page_shows_owner_status_history_and_each_reason_in_words(admin_client):
    first, second = RepFactory(name="Bo Lind"), RepFactory(name="Ana Ruiz")
    lead = LeadFactory(status="assigned", owner=second)
    AssignmentFactory(
        lead=lead,
        rep=first,
        rule__name="Nordics",
        ended_at=lead.created_at,
        end_reason="misrouted",
        reason={"rules": [{"rule": "Nordics", "result": "decided"}]},
    )
    AssignmentFactory(
        lead=lead,
        rep=second,
        rule__name="DACH airlines",
        reason={
            "rules": [{"rule": "Nordics", "result": "conditions not met"}],
            "skipped": [{"rep": "Cy Park", "reason": "at capacity"}],
        },
    )
    html = admin_client.get(reverse("admin:leadops_lead_change", args=[lead.pk])).content.decode()
    assert "Ana Ruiz" in html and "Bo Lind" in html and "Assigned" in html
    assert "DACH airlines" in html and "Nordics" in html
    assert "at capacity" in html and "Cy Park" in html and "conditions not met" in html
    assert "Flagged misrouted" in html


def test_the_lead_list_costs_the_same_queries_for_many_leads(admin_client, django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert admin_client.get(reverse("admin:leadops_lead_changelist")).status_code == 200
        return len(captured)

    rep = RepFactory()
    LeadFactory.create_batch(5, status="assigned", owner=rep)
    at_5 = queries()
    LeadFactory.create_batch(25, status="assigned", owner=RepFactory())
    # The filters (owner, team, source, deciding rule, country, dates) cost a fixed few queries; rows none.
    with django_assert_max_num_queries(14):
        assert queries() == at_5


def test_adding_a_lead_in_the_admin_cleans_it_like_the_api_and_routes_it(admin_client, routing_calls):
    response = admin_client.post(
        reverse("admin:leadops_lead_add"),
        {
            "source": "",
            "external_id": "",
            "email": "ANA@Example.com",
            "country": "de",
            "extra": "{}",
            "first_name": "",
            "last_name": "",
            "phone": "",
            "company": "",
            "industry": "",
            "company_size": "",
            "annual_revenue": "",
            "region": "",
            "city": "",
            "postal_code": "",
            "product_interest": "",
            "score": "",
            "language": "",
            "assignments-TOTAL_FORMS": "0",
            "assignments-INITIAL_FORMS": "0",
            "events-TOTAL_FORMS": "0",
            "events-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    lead = Lead.objects.get()
    assert (lead.email, lead.email_domain, lead.country, lead.source) == (
        "ana@example.com",
        "example.com",
        "DE",
        "manual",
    )
    assert routing_calls == [[lead.pk]]


def test_adding_an_integration_shows_its_key_once_and_the_key_works(admin_client):
    response = admin_client.post(
        reverse("admin:leadops_integration_add"), {"name": "Marketo", "active": "on"}, follow=True
    )
    key = re.search(r"<code>(lo_[^<]+)</code>", response.content.decode()).group(1)
    integration = Integration.objects.get(name="Marketo")
    assert integration.key_hash == Integration.hash_key(key) and key not in (
        integration.key_prefix,
        integration.key_hash,
    )
    integration.raw_key = key
    assert client_for(integration).get("/api/leads/").status_code == 200
    page = admin_client.get(reverse("admin:leadops_integration_change", args=[integration.pk])).content.decode()
    assert key not in page


def test_revoking_a_key_in_the_admin_makes_its_calls_401_and_a_new_key_works(admin_client):
    integration = IntegrationFactory()
    changelist = reverse("admin:leadops_integration_changelist")
    admin_client.post(changelist, {"action": "revoke_keys", "_selected_action": [integration.pk]})
    assert client_for(integration).get("/api/leads/").status_code == 401
    response = admin_client.post(
        changelist, {"action": "issue_new_keys", "_selected_action": [integration.pk]}, follow=True
    )
    integration.raw_key = re.search(r"<code>(lo_[^<]+)</code>", response.content.decode()).group(1)
    assert client_for(integration).get("/api/leads/").status_code == 200


def test_ops_reassign_a_lead_from_the_lead_list_and_the_history_names_them(admin_client, admin_user):
    before, after = RepFactory(name="Bo Lind"), RepFactory(name="Ana Ruiz")
    lead = LeadFactory(status="assigned", owner=before)
    AssignmentFactory(lead=lead, rep=before)
    changelist = reverse("admin:leadops_lead_changelist")
    html = admin_client.get(changelist).content.decode()
    for action in ("route_now", "reassign_to_rep", "release_to_routing", "claim_for_rep"):
        assert f'value="{action}"' in html
    chooser = admin_client.post(changelist, {"action": "reassign_to_rep", "_selected_action": [lead.pk]})
    assert "Reassign" in chooser.content.decode()
    admin_client.post(
        changelist, {"action": "reassign_to_rep", "_selected_action": [lead.pk], "rep": after.pk, "apply": "Reassign"}
    )
    lead.refresh_from_db()
    assert lead.owner == after
    latest = lead.assignments.order_by("-created_at", "-id").first()
    assert (latest.rep, latest.decided_by, latest.decided_by_user) == (after, "user", admin_user)


def test_the_import_page_offers_a_sample_file_that_imports_cleanly(admin_client):
    import csv
    import io

    from leadops.services.normalise import INPUT_FIELDS, lead_input_clean

    page = admin_client.get(reverse("admin:leadops_lead_import")).content.decode()
    assert 'id="sample-file"' in page
    response = admin_client.get(reverse("admin:leadops_lead_import_sample"))
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert list(rows[0]) == list(INPUT_FIELDS) and len(rows) == 2
    for row in rows:
        facts, errors = lead_input_clean({k: v for k, v in row.items() if v}, default_source="import", strict=False)
        assert errors == {} and facts["email"]
