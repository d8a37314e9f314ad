"""Property-based fuzzing of the write endpoints: malformed, oversized, wrong-typed and hostile
input never gets a 5xx, and nothing is half-stored (a lead or event exists iff the answer says so)."""

import json

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leadops.models import Lead, LeadEvent
from leadops.services.normalise import INPUT_FIELDS
from leadops.tests.conftest import client_for
from leadops.tests.factories import IntegrationFactory, LeadFactory
from reps.tests.factories import RepFactory

pytestmark = pytest.mark.django_db

HOSTILE = [
    "'; DROP TABLE leadops_lead; --",
    '" OR 1=1 --',
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "\x00",
    "a\x00b@example.com",
    "\ud800",
    "\udfff\ud800",
    "\u202eevil",
    "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 ✓ 😀",
    "Ω≈ç√∫",
    "%s%s%n{0}",
    "NaN",
    "Infinity",
    "-1",
    "1e400",
    "99999999999999999999999",
    "0x10",
    "  ",
    "",
    "null",
    "true",
    "ZZ",
    "de",
    "uk",
    "a@b",
    "ANA@EXAMPLE.COM",
    "../../etc/passwd",
    "${jndi:ldap://x}",
    "\r\n\t",
    "1" * 30,
]
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=30),
    st.text(min_size=200, max_size=1500),
    st.sampled_from(HOSTILE),
    st.emails(),
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=6,
)
keys = st.one_of(
    st.sampled_from(INPUT_FIELDS + ("id", "status", "owner")), st.text(max_size=12), st.sampled_from(HOSTILE)
)
leads = st.dictionaries(keys, values, max_size=10)
bodies = st.one_of(leads, values)
FUZZ = settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)


def encode(body) -> str:
    return json.dumps(body)  # lone surrogates become \ud800 escapes, as a hostile client would send them


@pytest.fixture
def fuzz_api(db):
    return client_for(IntegrationFactory(rate_limit_per_minute=1_000_000))


@FUZZ
@given(body=bodies)
def test_posting_any_json_to_leads_never_gives_a_5xx_and_stores_a_lead_only_on_201(fuzz_api, body):
    before = Lead.objects.count()
    response = fuzz_api.post("/api/leads/", encode(body), content_type="application/json")
    assert response.status_code < 500, response.content
    assert response.status_code in (200, 201, 400, 403, 409)
    assert Lead.objects.count() == before + (1 if response.status_code == 201 else 0)
    if response.status_code == 201:
        lead = Lead.objects.get(pk=response.json()["id"])
        assert lead.email == lead.email.strip().lower() and (lead.email or lead.phone)


@FUZZ
@given(items=st.one_of(st.lists(bodies, max_size=6), values))
def test_posting_any_json_to_bulk_never_gives_a_5xx_and_stores_exactly_the_created_items(fuzz_api, items):
    before = Lead.objects.count()
    response = fuzz_api.post("/api/leads/bulk/", encode(items), content_type="application/json")
    assert response.status_code < 500, response.content
    created = 0
    if response.status_code == 200:
        results = response.json()
        assert [r["index"] for r in results] == list(range(len(items)))
        created = sum(r["status"] == "created" for r in results)
    assert Lead.objects.count() == before + created


@FUZZ
@given(
    body=st.one_of(
        st.fixed_dictionaries(
            {"type": st.sampled_from(["contacted", "converted", "lost", "misrouted", "released"]) | values},
            optional={
                "at": st.datetimes(timezones=st.just(timezone.get_current_timezone())).map(str) | values,
                "note": values,
            },
        ),
        bodies,
    )
)
def test_posting_any_json_as_an_event_never_gives_a_5xx_and_records_it_only_on_201(db, body):
    integration = IntegrationFactory(rate_limit_per_minute=1_000_000)
    lead = LeadFactory(integration=integration, status="assigned", owner=RepFactory())
    response = client_for(integration).post(
        f"/api/leads/{lead.pk}/events/", encode(body), content_type="application/json"
    )
    assert response.status_code < 500, response.content
    assert LeadEvent.objects.filter(lead=lead).count() == (1 if response.status_code == 201 else 0)


@FUZZ
@given(raw=st.binary(max_size=300) | st.text(max_size=300).map(str.encode))
def test_undecodable_bodies_get_4xx(fuzz_api, raw):
    before = Lead.objects.count()
    single = fuzz_api.post("/api/leads/", raw, content_type="application/json")
    bulk = fuzz_api.post("/api/leads/bulk/", raw, content_type="application/json")
    assert single.status_code < 500 and bulk.status_code < 500
    created = (single.status_code == 201) + (
        sum(r["status"] == "created" for r in bulk.json()) if bulk.status_code == 200 else 0
    )
    assert Lead.objects.count() == before + created
