"""The database itself refuses bad leads, events, accounts and integrations."""

from contextlib import contextmanager

import pytest
from django.db import IntegrityError, transaction

from leadops.models import Account, Integration, Lead, LeadEvent
from leadops.tests.factories import AccountFactory, IntegrationFactory, LeadFactory
from reps.tests.factories import RepFactory

pytestmark = pytest.mark.django_db


@contextmanager
def rejected():
    """The row must be refused by the database; atomic keeps Postgres' transaction usable."""
    with pytest.raises(IntegrityError), transaction.atomic():
        yield


def test_same_source_and_external_id_is_one_lead():
    LeadFactory(source="web_form", external_id="F-1001")
    with rejected():
        Lead.objects.create(source="web_form", external_id="F-1001", email="x@acme.example")


def test_same_external_id_from_another_source_is_another_lead():
    LeadFactory(source="web_form", external_id="F-1001")
    assert LeadFactory(source="marketo", external_id="F-1001").pk


def test_leads_without_external_id_never_collide():
    Lead.objects.create(source="manual", email="a@acme.example")
    Lead.objects.create(source="manual", email="b@acme.example")
    assert Lead.objects.filter(source="manual", external_id__isnull=True).count() == 2


@pytest.mark.parametrize(
    "fields",
    [
        {"status": "won"},
        {"score": 101},
        {"annual_revenue": -1},
        {"status": "assigned", "owner": None},
    ],
)
def test_lead_with_unknown_status_bad_score_negative_revenue_or_ownerless_assignment_is_refused(fields):
    with rejected():
        Lead.objects.create(source="manual", email="a@acme.example", **fields)


def test_assigned_lead_with_owner_is_accepted_and_open():
    lead = LeadFactory(status="assigned", owner=RepFactory())
    assert lead.is_open and Lead.objects.open().get() == lead


def test_email_domain_is_derived_on_save():
    lead = Lead.objects.create(source="manual", email="Jo.Meyer@Lufthansa.COM")
    lead.refresh_from_db()
    assert lead.email_domain == "lufthansa.com"


def test_event_with_unknown_type_is_refused():
    lead = LeadFactory()
    with rejected():
        LeadEvent.objects.create(lead=lead, type="called")


def test_an_email_domain_belongs_to_one_account():
    AccountFactory(domain="acme.com")
    with rejected():
        Account.objects.create(name="Acme again", domain="ACME.com ", owner=RepFactory())


def test_integration_names_and_key_hashes_are_unique():
    integration = IntegrationFactory(name="Website")
    with rejected():
        Integration.objects.create(name="Website", key_hash="other")
    with rejected():
        Integration.objects.create(name="CRM", key_hash=integration.key_hash)


def test_integration_key_is_stored_hashed():
    integration = IntegrationFactory()
    integration.refresh_from_db()
    assert integration.raw_key not in (integration.key_hash, integration.key_prefix)
    assert integration.key_hash == Integration.hash_key(integration.raw_key)
