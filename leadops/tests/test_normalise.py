"""The one normalisation the API and the imports share (no database needed)."""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator
from hypothesis import given
from hypothesis import strategies as st

from leadops.services.normalise import _PLAIN_EMAIL, lead_input_clean


def clean(data, **kw):
    return lead_input_clean(data, default_source="web", **kw)


def test_values_are_trimmed_lower_or_upper_cased_and_numbers_parsed():
    facts, errors = clean(
        {
            "email": "  Ana@EXAMPLE.com ",
            "country": " uk ",
            "region": "by",
            "company_size": "1200",
            "annual_revenue": "1500.456",
            "score": 80.0,
            "postal_code": 80331,
            "first_name": " Ana ",
        }
    )
    assert errors == {}
    assert (facts["email"], facts["email_domain"], facts["country"], facts["region"]) == (
        "ana@example.com",
        "example.com",
        "GB",
        "BY",
    )
    assert (facts["company_size"], facts["annual_revenue"], facts["score"]) == (1200, Decimal("1500.46"), 80)
    assert (facts["postal_code"], facts["first_name"], facts["source"], facts["external_id"]) == (
        "80331",
        "Ana",
        "web",
        None,
    )


def test_every_bad_field_is_named_with_a_reason():
    _, errors = clean(
        {
            "email": "a@",
            "country": "XX",
            "score": True,
            "company_size": "12.5",
            "annual_revenue": "-1",
            "city": "x" * 121,
            "phone": "1\x00",
            "extra": {"k": {"nested": 1}},
        }
    )
    assert set(errors) == {"email", "country", "score", "company_size", "annual_revenue", "city", "phone", "extra"}
    assert errors["city"] == ["At most 120 characters (got 121)."]


def test_unknown_fields_are_rejected_by_the_api_and_ignored_by_imports_except_extra_columns():
    _, errors = clean({"email": "a@b.co", "campaign": "x", "status": "assigned"})
    assert set(errors) == {"campaign", "status"}
    facts, errors = clean(
        {"email": "a@b.co", "campaign": "x", "extra.campaign": "spring", "extra.empty": ""}, strict=False
    )
    assert errors == {} and facts["extra"] == {"campaign": "spring"}


def test_hostile_text_is_refused_or_kept_verbatim_never_mangled():
    facts, errors = clean({"email": "a@b.co", "company": "<script>alert(1)</script>'; DROP TABLE x; --"})
    assert errors == {} and facts["company"] == "<script>alert(1)</script>'; DROP TABLE x; --"
    _, errors = clean({"email": "a@b.co", "company": "\ud800"})
    assert errors == {"company": ["Is not valid Unicode text."]}


@given(st.emails())
def test_the_fast_email_check_accepts_only_what_djangos_validator_accepts(email):
    email = email.lower()
    if _PLAIN_EMAIL.match(email):
        try:
            EmailValidator()(email)
        except ValidationError as exc:  # pragma: no cover - the failure this test exists to find
            raise AssertionError(f"fast path accepted {email!r}, Django refuses it") from exc
