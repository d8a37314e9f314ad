"""One normalisation of lead input, shared by the API, the admin import and `import_leads`.

`lead_input_clean(data)` turns what a client or a spreadsheet row sent into the facts a Lead
stores, or into errors naming each bad field. Plain Python (no serializer, no database), so
a 100,000-row import spends microseconds per row here.

Rules (the API documentation repeats them):
- strings are trimmed; longer than the column → error (never silently cut); control
  characters and invalid Unicode → error; `null` means empty;
- `email` validated and lower-cased; `country` ISO 3166-1 alpha-2, upper-cased (`UK` → `GB`);
  `region` upper-cased;
- `company_size`, `annual_revenue` are numbers ≥ 0; `score` is 0–100; numeric strings are
  accepted (spreadsheets), booleans are not;
- a lead needs an `email` or a `phone`;
- `source` defaults to the caller's default (the integration's name for the API, `import` for
  files); `external_id` is optional; without it the lead is never deduplicated;
- unknown fields: the API rejects them (400 naming each, pointing at `extra`); imports ignore
  unknown columns and take `extra.<key>` columns into `extra`;
- `extra` is an object of at most 50 keys (≤ 60 characters) whose values are text (≤ 1,000
  characters), numbers, true/false or null.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator

from routing.engine.vocabulary import email_domain

# ISO 3166-1 alpha-2 (tzdata's iso3166.tab).
COUNTRY_CODES = frozenset(
    """AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS
    BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE
    EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM
    HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC
    LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA
    NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW
    SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO
    TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW""".split()
)
COUNTRY_ALIASES = {"UK": "GB", "EL": "GR"}

# Text facts and their column lengths (leadops.models.Lead).
TEXT_FIELDS: dict[str, int] = {
    "source": 60,
    "external_id": 120,
    "first_name": 80,
    "last_name": 80,
    "phone": 40,
    "company": 200,
    "industry": 80,
    "region": 40,
    "city": 120,
    "postal_code": 20,
    "product_interest": 120,
    "language": 20,
}
EMAIL_MAX = 254
COMPANY_SIZE_MAX = 10_000_000
REVENUE_MAX = Decimal("99999999999999.99")  # DecimalField(max_digits=16, decimal_places=2)
EXTRA_MAX_KEYS = 50
EXTRA_KEY_MAX = 60
EXTRA_VALUE_MAX = 1000

INPUT_FIELDS = (
    "external_id",
    "source",
    "email",
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
)
READ_ONLY_FIELDS = frozenset(
    {
        "id",
        "status",
        "owner",
        "assignment",
        "email_domain",
        "created_at",
        "updated_at",
        "assigned_at",
        "first_contacted_at",
        "closed_at",
        "integration",
        "pool_rule",
        "routing_error",
    }
)
UNKNOWN_FIELD = 'Unknown field. Send custom values inside "extra", e.g. {"extra": {"campaign": "spring"}}.'
READ_ONLY_FIELD = "Read-only field: set by LeadOps, not by the client."

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_INTEGER = re.compile(r"-?[0-9]{1,18}\Z")
_validate_email = EmailValidator()
# A strict subset of what EmailValidator accepts (dot-atom local part, LDH labels, alphabetic TLD),
# checked first because it is several times faster; anything else goes to EmailValidator.
_PLAIN_EMAIL = re.compile(r"[a-z0-9_%+-]+(?:\.[a-z0-9_%+-]+)*@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}\Z")


class _Bad(Exception):
    pass


def _text(value: Any, max_length: int) -> str:
    if type(value) is str:  # the common case first: this runs for every text cell of every import row
        value = value.strip()
    elif value is None:
        return ""
    elif isinstance(value, bool):
        raise _Bad("Must be text.")
    elif isinstance(value, int):
        value = str(value)
    elif isinstance(value, float):
        if not value.is_integer():
            raise _Bad("Must be text.")
        value = str(int(value))
    elif isinstance(value, str):
        value = str.strip(value)
    else:
        raise _Bad("Must be text.")
    if _CONTROL.search(value):
        raise _Bad("Contains control characters.")
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise _Bad("Is not valid Unicode text.") from exc
    if len(value) > max_length:
        raise _Bad(f"At most {max_length} characters (got {len(value)}).")
    return value


def _whole_number(value: Any, low: int, high: int) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise _Bad("Must be a whole number.")
    if isinstance(value, float):
        if not (math.isfinite(value) and value.is_integer()):
            raise _Bad("Must be a whole number.")
        value = int(value)
    elif isinstance(value, str):
        text = value.strip()
        if text.endswith(".0"):
            text = text[:-2]
        if not _INTEGER.match(text):
            raise _Bad(f"Must be a whole number (got “{value[:40]}”).")
        value = int(text)
    elif not isinstance(value, int):
        raise _Bad("Must be a whole number.")
    if value < low:
        raise _Bad(f"Must be {low} or more.")
    if value > high:
        raise _Bad(f"Must be {high:,} or less.")
    return value


def _money(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, str, Decimal)):
        raise _Bad("Must be a number.")
    text = str(value).strip() if not isinstance(value, float) else repr(value)
    if len(text) > 40:
        raise _Bad("Must be a number.")
    try:
        number = Decimal(text)
    except InvalidOperation as exc:
        raise _Bad(f"Must be a number (got “{text[:40]}”).") from exc
    if not number.is_finite():
        raise _Bad("Must be a number.")
    if number < 0:
        raise _Bad("Must be 0 or more.")
    if number > REVENUE_MAX:
        raise _Bad(f"Must be {REVENUE_MAX:,} or less.")
    return number.quantize(Decimal("0.01"))


def _country(value: Any) -> str:
    code = _text(value, 60).upper()
    if not code:
        return ""
    code = COUNTRY_ALIASES.get(code, code)
    if code not in COUNTRY_CODES:
        raise _Bad(f"“{code[:20]}” is not an ISO 3166-1 alpha-2 country code (e.g. DE, US, GB).")
    return code


def _email(value: Any) -> str:
    email = _text(value, EMAIL_MAX).lower()
    if email and not _PLAIN_EMAIL.match(email):  # unusual addresses: Django's validator decides
        try:
            _validate_email(email)
        except ValidationError as exc:
            raise _Bad(f"“{email[:80]}” is not a valid email address.") from exc
    return email


def _extra(value: Any) -> dict:
    if value is None or value == "":
        return {}
    if not isinstance(value, Mapping):
        raise _Bad('Must be an object of key/values, e.g. {"campaign": "spring"}.')
    if len(value) > EXTRA_MAX_KEYS:
        raise _Bad(f"At most {EXTRA_MAX_KEYS} keys (got {len(value)}).")
    clean = {}
    for key, item in value.items():
        try:
            key = _text(key, EXTRA_KEY_MAX)
        except _Bad as bad:
            raise _Bad(f"Key “{str(key)[:EXTRA_KEY_MAX]}”: {bad}") from bad
        if not key:
            raise _Bad("Keys must not be empty.")
        if isinstance(item, str):
            try:
                item = _text(item, EXTRA_VALUE_MAX)
            except _Bad as bad:
                raise _Bad(f"“{key}”: {bad}") from bad
        elif isinstance(item, float) and not math.isfinite(item):
            raise _Bad(f"“{key}”: must be a finite number.")
        elif isinstance(item, int) and not isinstance(item, bool) and abs(item) >= 10**15:
            raise _Bad(f"“{key}”: numbers must be below 10^15.")
        elif item is not None and not isinstance(item, (bool, int, float)):
            raise _Bad(f"“{key}”: must be text, a number, true/false or null.")
        clean[key] = item
    return clean


_CLEANERS = {
    "email": _email,
    "country": _country,
    "region": lambda v: _text(v, TEXT_FIELDS["region"]).upper(),
    "company_size": lambda v: _whole_number(v, 0, COMPANY_SIZE_MAX),
    "annual_revenue": _money,
    "score": lambda v: _whole_number(v, 0, 100),
    "extra": _extra,
}


def _json_object(text: str) -> Any:
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return text  # _extra refuses it with the usual message


def printable(text: Any) -> str:
    """Text safe to echo back in an error: invalid Unicode (lone surrogates) shown as escapes."""
    return str(text).encode("utf-8", "backslashreplace").decode("utf-8")


def _printable_errors(errors: dict[str, list[str]]) -> dict[str, list[str]]:
    return {printable(key)[:100]: [printable(m) for m in messages] for key, messages in errors.items()}


def lead_input_clean(
    data: Any, *, default_source: str, strict: bool = True
) -> tuple[dict[str, Any] | None, dict[str, list[str]]]:
    """Return (facts, {}) or (None, errors); facts are Lead field values incl. `email_domain`.

    strict: unknown keys are errors (API). Not strict: unknown keys are ignored and
    `extra.<key>` keys are merged into `extra` (imports).
    """
    if not isinstance(data, Mapping):
        return None, {"non_field_errors": ["Expected a JSON object with the lead's fields."]}
    errors: dict[str, list[str]] = {}
    facts: dict[str, Any] = {}
    file_extra: dict[str, Any] = {}
    for key, value in data.items():
        if key in _CLEANERS:
            cleaner = _CLEANERS[key]
        elif key in TEXT_FIELDS:
            cleaner = None
        elif not strict:
            if isinstance(key, str) and key.startswith("extra.") and value not in (None, ""):
                file_extra[key[6:]] = value
            continue
        else:
            errors[str(key)] = [READ_ONLY_FIELD if key in READ_ONLY_FIELDS else UNKNOWN_FIELD]
            continue
        if key == "extra" and not strict and isinstance(value, str) and value.strip():
            value = _json_object(value)  # a spreadsheet cell holds the JSON text (as the export writes it)
        try:
            facts[key] = cleaner(value) if cleaner else _text(value, TEXT_FIELDS[key])
        except _Bad as bad:
            errors[key] = [str(bad)]
    if file_extra and "extra" not in errors:
        try:
            facts["extra"] = _extra({**facts.get("extra", {}), **file_extra})
        except _Bad as bad:
            errors["extra"] = [str(bad)]
    if errors:
        return None, _printable_errors(errors)
    if not facts.get("source"):
        facts["source"] = default_source[: TEXT_FIELDS["source"]]
    facts["external_id"] = facts.get("external_id") or None
    if not facts.get("email") and not facts.get("phone"):
        return None, {"email": ["A lead needs an email or a phone."]}
    facts["email_domain"] = email_domain(facts.get("email", ""))
    return facts, {}
