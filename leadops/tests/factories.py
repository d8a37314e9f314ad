"""Factories for leads, their events, integrations and accounts."""

from decimal import Decimal

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from leadops.models import Account, Integration, Lead, LeadEvent
from reps.tests.factories import RepFactory
from routing.engine.vocabulary import email_domain as domain_of

INDUSTRIES = [
    "software",
    "airline",
    "logistics",
    "manufacturing",
    "healthcare",
    "retail",
    "financial services",
    "education",
]
PRODUCTS = ["Fleet Analytics", "Routing Suite", "Data Platform", "Support Desk"]
SOURCES = ["web_form", "webinar", "marketo", "partner", "trade_show"]


class IntegrationFactory(DjangoModelFactory):
    """An integration with a fresh API key; the raw key is on `integration.raw_key` after create."""

    class Meta:
        model = Integration
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Integration {n:03d}")
    active = True
    key_prefix = ""
    key_hash = factory.Sequence(lambda n: f"placeholder-{n}")

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        integration = model_class(*args, **kwargs)
        integration.raw_key = integration.set_new_key()
        integration.save()
        return integration

    @classmethod
    def _build(cls, model_class, *args, **kwargs):
        integration = model_class(*args, **kwargs)
        integration.raw_key = integration.set_new_key()
        return integration


class LeadFactory(DjangoModelFactory):
    """A believable inbound B2B lead from Germany, pending routing."""

    class Meta:
        model = Lead

    source = factory.Iterator(SOURCES)
    external_id = factory.Sequence(lambda n: f"ext-{n:06d}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    company = factory.Faker("company")
    email = factory.LazyAttributeSequence(
        lambda o, n: f"{o.first_name}.{o.last_name}{n}@{_domain_of(o.company)}".lower().replace(" ", "")
    )
    email_domain = factory.LazyAttribute(lambda o: domain_of(o.email))
    phone = factory.Faker("phone_number", locale="de_DE")
    industry = factory.Iterator(INDUSTRIES)
    company_size = factory.Faker("random_element", elements=[12, 45, 120, 480, 1500, 8000])
    annual_revenue = factory.LazyAttribute(lambda o: Decimal(o.company_size * 180_000))
    country = "DE"
    region = "BY"
    city = "München"
    postal_code = "80331"
    product_interest = factory.Iterator(PRODUCTS)
    score = factory.Faker("pyint", min_value=10, max_value=95)
    language = "de"
    status = "pending"
    created_at = factory.LazyFunction(timezone.now)


def _domain_of(company: str) -> str:
    word = "".join(ch for ch in company.split()[0].split(",")[0] if ch.isalnum()) or "company"
    return f"{word.lower()}.example"


class LeadEventFactory(DjangoModelFactory):
    class Meta:
        model = LeadEvent

    lead = factory.SubFactory(LeadFactory)
    type = "contacted"
    rep = factory.LazyAttribute(lambda o: o.lead.owner)
    at = factory.LazyFunction(timezone.now)


class AccountFactory(DjangoModelFactory):
    class Meta:
        model = Account

    name = factory.Faker("company")
    domain = factory.Sequence(lambda n: f"account{n:04d}.example")
    owner = factory.SubFactory(RepFactory)
