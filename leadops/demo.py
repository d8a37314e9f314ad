"""Demo data: a believable B2B sales org with 90 days of routed leads and their outcomes.

`demo_seed()` is deterministic (fixed seeds) and safe to run again:
- the routing set-up (skills, teams, nested territories, reps, rules) goes through the routing
  file loader, so it is upserted by natural key like `load_routing` does;
- users, the Managers group, integrations and accounts are get-or-create by natural key;
- the lead history is written once: demo leads carry `external_id` "demo-…", and when any
  exists the history is left alone.
History is written directly in bulk (leads with their final owner/status/timestamps,
assignments with reason traces, outcome events, daily counts), not by running the engine
over 90 days, so it takes seconds. The newest leads are left `pending` for `route_pending`.
"""

from __future__ import annotations

import datetime as dt
import random
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django.utils import timezone
from faker import Faker

from leadops.models import Account, Integration, Lead, LeadEvent, LeadEventType, LeadStatus
from reps.models import Rep, Team
from routing.models import Assignment, Operator, RepDailyCount, Rule, RuleSet
from routing.routing_file import routing_config_load
from routing.services.assignments import MANUAL, POOL_CLAIM
from routing.services.facts import assignment_facts_fill

SEED = 20261123
LEAD_COUNT = 5200
HISTORY_DAYS = 90
PENDING_COUNT = 40  # the newest leads, left for `make demo`'s route step
DEMO_EXTERNAL_PREFIX = "demo-"
DEMO_CHANNEL = "Demo receiver"
REP_DOMAIN = "leadops-demo.example"
ADMIN_USERNAME, ADMIN_PASSWORD = "admin", "leadops-admin-demo"
MANAGER_USERNAME, MANAGER_PASSWORD = "manager", "leadops-manager-demo"
MANAGERS_GROUP = "Managers"
REP_USERNAME, REP_PASSWORD = "rep", "leadops-rep-demo"
DEMO_REP = "Noah Fischer"  # Inbound SDR: a member of the "No company given" pool team

# country: (language, faker locale, top-level domain, phone prefix, [(city, region, postal code)], share of leads)
PLACES = {
    "DE": (
        "de",
        "de_DE",
        "de",
        "+49",
        [
            ("Berlin", "BE", "10115"),
            ("München", "BY", "80331"),
            ("Hamburg", "HH", "20095"),
            ("Frankfurt am Main", "HE", "60311"),
            ("Köln", "NW", "50667"),
            ("Stuttgart", "BW", "70173"),
        ],
        14,
    ),
    "AT": ("de", "de_AT", "at", "+43", [("Wien", "9", "1010"), ("Graz", "6", "8010"), ("Linz", "4", "4020")], 3),
    "CH": ("de", "de_CH", "ch", "+41", [("Zürich", "ZH", "8001"), ("Basel", "BS", "4051"), ("Bern", "BE", "3011")], 3),
    "GB": (
        "en",
        "en_GB",
        "co.uk",
        "+44",
        [("London", "ENG", "EC1A 1BB"), ("Manchester", "ENG", "M1 1AE"), ("Edinburgh", "SCT", "EH1 1YZ")],
        9,
    ),
    "IE": ("en", "en_IE", "ie", "+353", [("Dublin", "D", "D02 X285"), ("Cork", "CO", "T12 RT4X")], 2),
    "FR": (
        "fr",
        "fr_FR",
        "fr",
        "+33",
        [("Paris", "IDF", "75001"), ("Lyon", "ARA", "69001"), ("Toulouse", "OCC", "31000")],
        6,
    ),
    "BE": ("nl", "nl_BE", "be", "+32", [("Brussel", "BRU", "1000"), ("Antwerpen", "VAN", "2000")], 2),
    "NL": (
        "nl",
        "nl_NL",
        "nl",
        "+31",
        [("Amsterdam", "NH", "1012"), ("Rotterdam", "ZH", "3011"), ("Utrecht", "UT", "3511")],
        4,
    ),
    "SE": ("sv", "sv_SE", "se", "+46", [("Stockholm", "AB", "111 20"), ("Göteborg", "O", "411 03")], 3),
    "NO": ("no", "no_NO", "no", "+47", [("Oslo", "03", "0150"), ("Bergen", "46", "5003")], 1),
    "DK": ("da", "da_DK", "dk", "+45", [("København", "84", "1050"), ("Aarhus", "82", "8000")], 2),
    "FI": ("fi", "fi_FI", "fi", "+358", [("Helsinki", "18", "00100"), ("Tampere", "11", "33100")], 1),
    "ES": (
        "es",
        "es_ES",
        "es",
        "+34",
        [("Madrid", "MD", "28001"), ("Barcelona", "CT", "08001"), ("Valencia", "VC", "46001")],
        4,
    ),
    "IT": (
        "it",
        "it_IT",
        "it",
        "+39",
        [("Milano", "25", "20121"), ("Roma", "62", "00184"), ("Torino", "21", "10121")],
        4,
    ),
    "PT": ("pt", "pt_PT", "pt", "+351", [("Lisboa", "11", "1100-148"), ("Porto", "13", "4000-322")], 1),
    "US": (
        "en",
        "en_US",
        "com",
        "+1",
        [
            ("San Francisco", "CA", "94105"),
            ("Seattle", "WA", "98101"),
            ("Denver", "CO", "80202"),
            ("Austin", "TX", "78701"),
            ("Chicago", "IL", "60601"),
            ("New York", "NY", "10001"),
            ("Boston", "MA", "02108"),
            ("Atlanta", "GA", "30303"),
            ("Miami", "FL", "33131"),
        ],
        22,
    ),
    "CA": (
        "en",
        "en_CA",
        "ca",
        "+1",
        [("Toronto", "ON", "M5H 2N2"), ("Vancouver", "BC", "V6B 1A1"), ("Montréal", "QC", "H2Y 1C6")],
        4,
    ),
    "AU": ("en", "en_AU", "com.au", "+61", [("Sydney", "NSW", "2000"), ("Melbourne", "VIC", "3000")], 3),
    "NZ": ("en", "en_NZ", "co.nz", "+64", [("Auckland", "AUK", "1010")], 1),
    "JP": ("ja", "en_US", "co.jp", "+81", [("Tokyo", "13", "100-0001"), ("Osaka", "27", "530-0001")], 3),
    "SG": ("en", "en_US", "com.sg", "+65", [("Singapore", "", "018956")], 2),
    "IN": ("en", "en_IN", "in", "+91", [("Bengaluru", "KA", "560001"), ("Mumbai", "MH", "400001")], 3),
    "BR": (
        "pt",
        "pt_BR",
        "com.br",
        "+55",
        [("São Paulo", "SP", "01310-100"), ("Rio de Janeiro", "RJ", "20040-020")],
        3,
    ),
    "MX": ("es", "es_MX", "com.mx", "+52", [("Ciudad de México", "CMX", "06000"), ("Monterrey", "NLE", "64000")], 2),
    "ZA": ("en", "en_US", "co.za", "+27", [("Johannesburg", "GP", "2001"), ("Cape Town", "WC", "8001")], 1),
}
INDUSTRIES = {
    "software": 20,
    "logistics": 12,
    "manufacturing": 14,
    "financial services": 10,
    "retail": 9,
    "healthcare": 8,
    "airline": 6,
    "telecom": 6,
    "energy": 5,
    "education": 5,
    "government": 5,
}
PRODUCTS = {"Fleet Analytics": 30, "Routing Suite": 25, "Data Platform": 30, "Support Desk": 15}
SOURCES = {"web_form": 38, "marketo": 20, "chat": 12, "webinar": 10, "trade_show": 10, "partner_portal": 10}
INTEGRATIONS = {"web_form": "Website forms", "marketo": "Marketo", "partner_portal": "Partner portal"}
STRATEGIC = [
    ("AeroLux Airlines", "aerolux.de", "DE", "airline", 12000),
    ("Nordwind Logistik", "nordwind-logistik.de", "DE", "logistics", 4200),
    ("Globex Freight", "globexfreight.com", "US", "logistics", 9000),
]

SKILLS = ["airline", "enterprise", "french", "german", "healthcare", "japanese", "public_sector", "spanish"]
TEAMS = ["APAC & LATAM", "EMEA Enterprise", "EMEA Mid-Market", "Inbound SDR", "North America"]
TERRITORIES = [
    ("EMEA", None, [], []),
    ("DACH", "EMEA", ["DE", "AT", "CH"], []),
    ("Germany", "DACH", ["DE"], []),
    ("Austria", "DACH", ["AT"], []),
    ("Switzerland", "DACH", ["CH"], []),
    ("UK & Ireland", "EMEA", ["GB", "IE"], []),
    ("France & Benelux", "EMEA", ["FR", "BE", "NL", "LU"], []),
    ("Nordics", "EMEA", ["SE", "NO", "DK", "FI"], []),
    ("Southern Europe", "EMEA", ["ES", "IT", "PT"], []),
    ("North America", None, [], []),
    ("US West", "North America", ["US"], ["CA", "WA", "OR", "NV", "AZ", "UT", "CO"]),
    ("US East", "North America", ["US"], ["NY", "MA", "NJ", "PA", "FL", "GA", "VA", "NC", "IL", "TX"]),
    ("Canada", "North America", ["CA"], []),
    ("APAC", None, [], []),
    ("ANZ", "APAC", ["AU", "NZ"], []),
    ("Japan", "APAC", ["JP"], []),
    ("Southeast Asia & India", "APAC", ["SG", "IN"], []),
    ("LATAM", None, [], []),
    ("Brazil", "LATAM", ["BR"], []),
    ("Mexico", "LATAM", ["MX"], []),
]
# name, team, time zone, territories, skills, capacity, daily cap, weight
REPS = [
    (
        "Anna Schneider",
        "EMEA Enterprise",
        "Europe/Berlin",
        ["Germany"],
        {"enterprise": 5, "german": 5, "airline": 4},
        45,
        15,
        1.0,
    ),
    ("Jonas Weber", "EMEA Enterprise", "Europe/Berlin", ["Germany"], {"enterprise": 4, "german": 5}, 40, 15, 1.0),
    (
        "Lea Hofmann",
        "EMEA Enterprise",
        "Europe/Vienna",
        ["Austria"],
        {"enterprise": 3, "german": 5, "airline": 5},
        35,
        12,
        1.0,
    ),
    (
        "Marco Brunner",
        "EMEA Enterprise",
        "Europe/Zurich",
        ["Switzerland"],
        {"enterprise": 4, "german": 4, "french": 3},
        35,
        12,
        1.0,
    ),
    (
        "Felix Wagner",
        "EMEA Enterprise",
        "Europe/Berlin",
        ["DACH"],
        {"enterprise": 2, "german": 5, "airline": 2},
        25,
        8,
        0.5,
    ),
    (
        "Oliver Bennett",
        "EMEA Enterprise",
        "Europe/London",
        ["UK & Ireland"],
        {"enterprise": 5, "healthcare": 3},
        50,
        18,
        1.5,
    ),
    (
        "Grace O'Connor",
        "EMEA Enterprise",
        "Europe/Dublin",
        ["UK & Ireland"],
        {"enterprise": 3, "healthcare": 4},
        40,
        15,
        1.0,
    ),
    ("Hannah Clarke", "EMEA Enterprise", "Europe/London", ["UK & Ireland"], {"enterprise": 2}, 25, 8, 0.5),
    (
        "Camille Laurent",
        "EMEA Mid-Market",
        "Europe/Paris",
        ["France & Benelux"],
        {"french": 5, "healthcare": 2},
        60,
        20,
        1.0,
    ),
    ("Thomas Dubois", "EMEA Mid-Market", "Europe/Paris", ["France & Benelux"], {"french": 5}, 55, 20, 1.0),
    (
        "Sanne de Vries",
        "EMEA Mid-Market",
        "Europe/Amsterdam",
        ["France & Benelux"],
        {"french": 3, "german": 3},
        50,
        18,
        1.0,
    ),
    ("Erik Lindqvist", "EMEA Mid-Market", "Europe/Stockholm", ["Nordics"], {"enterprise": 2}, 55, 20, 1.0),
    ("Ingrid Hansen", "EMEA Mid-Market", "Europe/Oslo", ["Nordics"], {"healthcare": 3}, 45, 16, 1.0),
    (
        "Lucía Fernández",
        "EMEA Mid-Market",
        "Europe/Madrid",
        ["Southern Europe"],
        {"spanish": 5, "healthcare": 4},
        55,
        20,
        1.0,
    ),
    ("Giulia Romano", "EMEA Mid-Market", "Europe/Rome", ["Southern Europe"], {"spanish": 3}, 50, 18, 1.0),
    ("Pedro Almeida", "EMEA Mid-Market", "Europe/Lisbon", ["Southern Europe"], {"spanish": 4}, 30, 10, 0.5),
    ("Emily Carter", "North America", "America/Los_Angeles", ["US West"], {"enterprise": 4}, 70, 25, 1.5),
    (
        "Jacob Miller",
        "North America",
        "America/Los_Angeles",
        ["US West"],
        {"enterprise": 3, "public_sector": 2},
        60,
        22,
        1.0,
    ),
    ("Olivia Johnson", "North America", "America/Denver", ["US West"], {"healthcare": 5}, 60, 22, 1.0),
    (
        "Michael Brown",
        "North America",
        "America/New_York",
        ["US East"],
        {"public_sector": 5, "enterprise": 3},
        70,
        25,
        1.0,
    ),
    ("Sophia Davis", "North America", "America/New_York", ["US East"], {"healthcare": 4, "spanish": 4}, 65, 24, 1.0),
    ("Daniel Wilson", "North America", "America/Chicago", ["US East"], {"public_sector": 4}, 60, 22, 1.0),
    ("Ava Thompson", "North America", "America/New_York", ["US East"], {}, 30, 10, 0.5),
    ("Liam Tremblay", "North America", "America/Toronto", ["Canada"], {"french": 4, "enterprise": 3}, 55, 20, 1.0),
    ("Chloe Nguyen", "APAC & LATAM", "Australia/Sydney", ["ANZ"], {"enterprise": 3}, 50, 18, 1.0),
    ("Kenji Sato", "APAC & LATAM", "Asia/Tokyo", ["Japan"], {"japanese": 5, "enterprise": 4}, 45, 16, 1.0),
    ("Priya Raman", "APAC & LATAM", "Asia/Singapore", ["Southeast Asia & India"], {"enterprise": 3}, 50, 18, 1.0),
    ("Rafael Costa", "APAC & LATAM", "America/Sao_Paulo", ["Brazil"], {"spanish": 4}, 50, 18, 1.0),
    ("Valeria Gómez", "APAC & LATAM", "America/Mexico_City", ["Mexico"], {"spanish": 5}, 45, 16, 1.0),
    ("Noah Fischer", "Inbound SDR", "Europe/Berlin", [], {"german": 4}, 80, 30, 1.0),
    ("Mia Rossi", "Inbound SDR", "Europe/Rome", [], {"spanish": 3}, 80, 30, 1.0),
    ("Ethan Walker", "Inbound SDR", "America/New_York", [], {}, 80, 30, 1.0),
    ("Zoe Martin", "Inbound SDR", "America/Chicago", [], {}, 80, 30, 1.0),
    ("Samuel Becker", "Inbound SDR", "Europe/Berlin", [], {}, 40, 15, 0.5),
]
INACTIVE_REPS = {"Hannah Clarke"}  # left the company: keeps history, gets nothing new


def _rep_email(name: str) -> str:
    return f"{_ascii(name).lower().replace(' ', '.').replace(chr(39), '')}@{REP_DOMAIN}"


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


def _cond(field_name, op, value) -> dict:
    return {"field": field_name, "op": op, "value": value}


def _rule(
    name,
    priority,
    conditions,
    strategy,
    *,
    team=None,
    reps=(),
    territory=None,
    required=(),
    preferred=(),
    hold=False,
    working_hours=False,
    sla=None,
    claim_limit=None,
) -> dict:
    return {
        "name": name,
        "priority": priority,
        "active": True,
        "conditions": conditions,
        "pool": {"team": team, "reps": [_rep_email(r) for r in reps], "territory": territory},
        "required_skills": list(required),
        "preferred_skills": list(preferred),
        "strategy": strategy,
        "when_none_eligible": "hold" if hold else "next_rule",
        "requires_working_hours": working_hours,
        "sla_minutes": sla,
        "claim_limit": claim_limit,
    }


RULES = [
    _rule(
        "Strategic accounts",
        5,
        [_cond("email", "email_domain_in", [d for _, d, *_ in STRATEGIC])],
        "direct",
        reps=["Anna Schneider", "Jonas Weber"],
        sla=15,
    ),
    _rule(
        "DACH airlines",
        10,
        [_cond("country", "in_territory", "DACH"), _cond("industry", "equals", "airline")],
        "round_robin",
        territory="DACH",
        required=["airline"],
        sla=30,
    ),
    _rule(
        "DACH enterprise",
        20,
        [_cond("country", "in_territory", "DACH"), _cond("company_size", "gte", 1000)],
        "skill_score",
        team="EMEA Enterprise",
        required=["enterprise"],
        preferred=["german"],
        sla=60,
    ),
    _rule(
        "DACH mid-market", 25, [_cond("country", "in_territory", "DACH")], "round_robin", territory="matched", sla=120
    ),
    _rule("UK & Ireland", 30, [_cond("country", "in", ["GB", "IE"])], "weighted", territory="UK & Ireland", sla=60),
    _rule(
        "France & Benelux",
        40,
        [_cond("country", "in_territory", "France & Benelux")],
        "load_balanced",
        territory="matched",
        preferred=["french"],
        sla=120,
    ),
    _rule(
        "Nordics growth",
        50,
        [_cond("country", "in_territory", "Nordics"), _cond("annual_revenue", "between", [1000000, 500000000])],
        "performance",
        territory="Nordics",
        sla=120,
    ),
    _rule(
        "Southern Europe",
        60,
        [_cond("country", "in_territory", "Southern Europe"), _cond("language", "in", ["es", "it", "pt"])],
        "round_robin",
        territory="Southern Europe",
        working_hours=True,
        sla=120,
    ),
    _rule(
        "US West software",
        70,
        [_cond("country", "in_territory", "US West"), _cond("industry", "in", ["software", "telecom"])],
        "weighted",
        territory="US West",
        sla=60,
    ),
    _rule(
        "US public sector",
        75,
        [_cond("country", "equals", "US"), _cond("industry", "equals", "government")],
        "skill_score",
        team="North America",
        required=["public_sector"],
        sla=240,
    ),
    _rule(
        "North America",
        80,
        [_cond("country", "in_territory", "North America"), _cond("industry", "not_equals", "government")],
        "load_balanced",
        territory="matched",
        sla=120,
    ),
    _rule(
        "APAC", 90, [_cond("country", "in_territory", "APAC")], "round_robin", territory="matched", hold=True, sla=240
    ),
    _rule(
        "LATAM pool",
        100,
        [_cond("country", "in_territory", "LATAM")],
        "pool",
        territory="LATAM",
        claim_limit=8,
        sla=240,
    ),
    _rule(
        "Healthcare specialists",
        110,
        [_cond("industry", "equals", "healthcare"), _cond("country", "not_in", ["US", "CA"])],
        "skill_score",
        reps=["Olivia Johnson", "Lucía Fernández", "Grace O'Connor"],
        required=["healthcare"],
        sla=120,
    ),
    _rule(
        "Partner referrals", 120, [_cond("source", "starts_with", "partner")], "round_robin", team="Inbound SDR", sla=60
    ),
    _rule(
        "Spring campaign", 130, [_cond("extra.campaign", "contains", "spring")], "weighted", team="Inbound SDR", sla=60
    ),
    _rule("No company given", 140, [_cond("company", "is_empty", None)], "pool", team="Inbound SDR", claim_limit=10),
    _rule("Low-score nurture", 150, [_cond("score", "lte", 20)], "load_balanced", team="Inbound SDR"),
    _rule("Everything else", 1000, [], "load_balanced", team="Inbound SDR", sla=240),
]


def demo_routing_document(*, today: dt.datetime) -> dict:
    """The demo's routing set-up in the routing-file format (time off anchored on `today`, midnight UTC)."""
    time_off = {
        "Jonas Weber": [(-2, 5)],
        "Sophia Davis": [(-1, 3)],
        "Kenji Sato": [(14, 21)],
        "Thomas Dubois": [(-30, -23)],
    }
    reps = []
    for name, team, tz, territories, skills, capacity, daily_cap, weight in REPS:
        hours = {"start": "08:00", "end": "18:00", "days": [1, 2, 3, 4, 5]} if team != "Inbound SDR" else None
        reps.append(
            {
                "email": _rep_email(name),
                "name": name,
                "team": team,
                "territories": territories,
                "skills": skills,
                "capacity": capacity,
                "daily_cap": daily_cap,
                "weight": weight,
                "timezone": tz,
                "working_hours": hours,
                "active": name not in INACTIVE_REPS,
                "time_off": [
                    {"start": _z(today + dt.timedelta(days=a)), "end": _z(today + dt.timedelta(days=b))}
                    for a, b in time_off.get(name, [])
                ],
            }
        )
    return {
        "skills": SKILLS,
        "teams": [{"name": t} for t in TEAMS],
        "territories": [
            {"name": n, "parent": p, "countries": c, "regions": r, "postal_prefixes": []} for n, p, c, r in TERRITORIES
        ],
        "reps": reps,
        "rules": RULES,
    }


def _z(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


@dataclass
class DemoResult:
    leads_created: int = 0
    assignments_created: int = 0
    events_created: int = 0
    accounts_created: int = 0
    integration_keys: dict[str, str] = field(default_factory=dict)  # only for integrations created now
    logins: list[tuple[str, str, str]] = field(default_factory=list)  # (role, username, password)
    webhook_url: str = ""  # the demo receiver page, when DEBUG is on


def demo_seed(*, now: dt.datetime | None = None, lead_count: int = LEAD_COUNT) -> DemoResult:
    """Build (or top up) the demo company. Running it again creates nothing new."""
    now = now or timezone.now()
    today = now.astimezone(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    result = DemoResult()
    with transaction.atomic():
        routing_config_load(demo_routing_document(today=today), who="seed_demo", deactivate_absent_rules=False)
        RuleSet.current()
        result.logins = _users()
        result.logins.append(demo_rep_login())
        result.integration_keys = _integrations()
        result.webhook_url = demo_webhook_channel()
        if not Lead.objects.filter(external_id__startswith=DEMO_EXTERNAL_PREFIX).exists():
            _History(now=now, lead_count=lead_count, result=result).write()
        demo_rep_pool_leads(now=now)  # after the history: its leads are demo leads too
    return result


def demo_webhook_channel() -> str:
    """With DEBUG on: a `json` channel posting every event to the app's own receiver page
    (notifications/views.py), so the demo shows a signed delivery arrive. Returns the page's URL."""
    from django.conf import settings

    from notifications.models import Channel
    from notifications.services.channels import channel_create
    from notifications.views import PATH

    if not settings.DEBUG:
        return ""
    url = f"{settings.SITE_URL}{PATH}"
    if not Channel.objects.filter(name=DEMO_CHANNEL).exists():
        channel_create(name=DEMO_CHANNEL, url=url)
    return url


def _users() -> list[tuple[str, str, str]]:
    User = get_user_model()
    admin, _ = User.objects.get_or_create(username=ADMIN_USERNAME, defaults={"email": f"admin@{REP_DOMAIN}"})
    admin.is_staff = admin.is_superuser = admin.is_active = True
    admin.set_password(ADMIN_PASSWORD)  # a demo: the printed password must always work
    admin.save()
    manager, _ = User.objects.get_or_create(
        username=MANAGER_USERNAME,
        defaults={"email": f"manager@{REP_DOMAIN}", "first_name": "Maria", "last_name": "Keller"},
    )
    manager.is_active = True
    manager.set_password(MANAGER_PASSWORD)
    manager.save()
    group, _ = Group.objects.get_or_create(name=MANAGERS_GROUP)
    group.permissions.add(Permission.objects.get(content_type__app_label="reports", codename="view_reports"))
    manager.groups.add(group)
    Team.objects.filter(name__in=["EMEA Enterprise", "EMEA Mid-Market"], manager__isnull=True).update(manager=manager)
    return [
        ("admin (ops, /admin/)", ADMIN_USERNAME, ADMIN_PASSWORD),
        ("manager (/reports/)", MANAGER_USERNAME, MANAGER_PASSWORD),
    ]


def demo_rep_login() -> tuple[str, str, str]:
    """Link the demo rep (a pool team member) to the login `rep`, for /queue/; the password is reset."""
    user, _ = get_user_model().objects.get_or_create(
        username=REP_USERNAME, defaults={"email": _rep_email(DEMO_REP), "first_name": "Noah", "last_name": "Fischer"}
    )
    user.is_active, user.is_staff, user.is_superuser = True, False, False
    user.set_password(REP_PASSWORD)
    user.save()
    Rep.objects.filter(user=user).exclude(email=_rep_email(DEMO_REP)).update(user=None)
    Rep.objects.filter(email=_rep_email(DEMO_REP)).update(user=user)
    return ("rep (their leads and pools, /queue/)", REP_USERNAME, REP_PASSWORD)


def demo_rep_pool_leads(*, now: dt.datetime, count: int = 6) -> int:
    """A few fresh chat leads with no company, left `pending` once: `make demo`'s route step sends them
    through the engine into the "No company given" pool, so the demo rep has leads to claim.
    South Africa is in no territory, so no earlier rule takes them."""
    prefix = f"{DEMO_EXTERNAL_PREFIX}pool-"
    if Lead.objects.filter(external_id__startswith=prefix).exists():
        return 0
    fake = Faker("en_US")
    fake.seed_instance(SEED + 1)
    leads = []
    for i in range(count):
        first, last = fake.first_name(), fake.last_name()
        email = f"{_ascii(first).lower()}.{_ascii(last).lower()}@mail.example.org"
        leads.append(
            Lead(
                source="chat",
                external_id=f"{prefix}{i + 1}",
                first_name=first,
                last_name=last,
                email=email,
                email_domain="mail.example.org",
                phone=f"+27 21 555 01{i:02d}",
                country="ZA",
                region="WC",
                city="Cape Town",
                language="en",
                score=40 + 7 * i,
                product_interest=list(PRODUCTS)[i % len(PRODUCTS)],
                created_at=now - dt.timedelta(minutes=7 * (count - i)),
            )
        )
    Lead.objects.bulk_create(leads)
    return len(leads)


def _integrations() -> dict[str, str]:
    keys = {}
    for source, name in INTEGRATIONS.items():
        if not Integration.objects.filter(name=name).exists():
            integration = Integration(name=name, allowed_sources=[source])
            keys[name] = integration.set_new_key()
            integration.save()
    return keys


def _slug(text: str) -> str:
    return "".join(ch for ch in _ascii(text).lower() if ch.isalnum())


class _History:
    """Generates 90 days of leads and what happened to them, then writes it in bulk."""

    def __init__(self, *, now: dt.datetime, lead_count: int, result: DemoResult):
        self.now, self.lead_count, self.result = now, lead_count, result
        self.rng = random.Random(SEED)
        self.fake = Faker(sorted({p[1] for p in PLACES.values()}))
        self.fake.seed_instance(SEED)
        self.reps = {
            r.email: r
            for r in Rep.objects.filter(email__endswith=f"@{REP_DOMAIN}")
            .select_related("team")
            .prefetch_related("territories", "time_off")
        }
        self.rules = {r.name: r for r in Rule.objects.filter(name__in=[r["name"] for r in RULES])}
        self.admin = get_user_model().objects.get(username=ADMIN_USERNAME)
        self.integrations = {source: Integration.objects.get(name=name) for source, name in INTEGRATIONS.items()}
        self.children = defaultdict(list)
        self.territory = {}
        for name, parent, countries, regions in TERRITORIES:
            self.territory[name] = (parent, countries, regions)
            self.children[parent].append(name)
        self.territory_reps = defaultdict(list)
        for rep in self.reps.values():
            for t in rep.territories.all():
                self.territory_reps[t.name].append(rep)
        self.rotation = Counter()
        self.open_count = Counter()

    # --- what the lead looks like -----------------------------------------------------

    def _companies(self, n: int) -> list[dict]:
        countries = list(PLACES)
        weights = [PLACES[c][5] for c in countries]
        companies, domains = [], set()
        for name, domain, country, industry, size in STRATEGIC:
            companies.append(self._company(name, domain, country, industry, size))
            domains.add(domain)
        while len(companies) < n:
            country = self.rng.choices(countries, weights)[0]
            name = self.fake[PLACES[country][1]].company()
            domain = f"{_slug(' '.join(name.replace(',', ' ').split()[:2]))[:24]}.{PLACES[country][2]}"
            if domain in domains or domain.startswith("."):
                continue
            domains.add(domain)
            industry = self.rng.choices(list(INDUSTRIES), list(INDUSTRIES.values()))[0]
            size = int(min(250000, max(5, self.rng.lognormvariate(5.3, 1.6))))
            companies.append(self._company(name, domain, country, industry, size))
        return companies

    def _company(self, name, domain, country, industry, size) -> dict:
        city, region, postal = self.rng.choice(PLACES[country][4])
        revenue = Decimal(int(size * self.rng.uniform(90_000, 420_000) / 10_000) * 10_000)
        return {
            "name": name,
            "domain": domain,
            "country": country,
            "industry": industry,
            "size": size,
            "revenue": revenue,
            "city": city,
            "region": region,
            "postal": postal,
        }

    def _lead(self, i: int, company: dict, created_at: dt.datetime) -> Lead:
        country = company["country"]
        language, locale, _, phone_prefix, _, _ = PLACES[country]
        first, last = self.fake[locale].first_name(), self.fake[locale].last_name()
        source = self.rng.choices(list(SOURCES), list(SOURCES.values()))[0]
        extra = {}
        if source == "marketo" and self.rng.random() < 0.35:
            extra["campaign"] = "spring-launch-2026"
        elif source == "web_form":
            extra["utm_source"] = self.rng.choice(["google", "linkedin", "newsletter", "direct"])
        no_company = source == "chat" and self.rng.random() < 0.15
        email = f"{_slug(first)}.{_slug(last)}@{company['domain']}"
        digits = "".join(
            ch if not ch.isdigit() or k < 2 else str(self.rng.randint(0, 9)) for k, ch in enumerate(company["postal"])
        )
        return Lead(
            integration=self.integrations.get(source),
            source=source,
            external_id=f"{DEMO_EXTERNAL_PREFIX}{i:06d}",
            email=email,
            email_domain=company["domain"],
            first_name=first,
            last_name=last,
            phone=f"{phone_prefix} {self.rng.randint(20, 99)} {self.rng.randint(1000000, 9999999)}",
            company="" if no_company else company["name"],
            industry="" if no_company else company["industry"],
            company_size=None if no_company else company["size"],
            annual_revenue=None if no_company else company["revenue"],
            country=country,
            region=company["region"],
            city=company["city"],
            postal_code=digits,
            product_interest=self.rng.choices(list(PRODUCTS), list(PRODUCTS.values()))[0],
            score=int(self.rng.triangular(0, 100, 58)),
            language=language,
            extra=extra,
            created_at=created_at,
            status=LeadStatus.PENDING,
        )

    # --- which rule and rep (a small stand-in for the engine, for history only) ---------

    def _in_territory(self, lead: Lead, name: str) -> bool:
        _, countries, regions = self.territory[name]
        if countries and lead.country in countries and (not regions or lead.region in regions):
            return True
        return any(self._in_territory(lead, child) for child in self.children[name])

    def _matched_levels(self, lead: Lead) -> list[str]:
        """The most specific territory containing the lead, then its parents."""
        best, depth = None, -1
        for name in self.territory:
            if self._in_territory(lead, name) and not any(self._in_territory(lead, c) for c in self.children[name]):
                d = self._depth(name)
                if d > depth:
                    best, depth = name, d
        levels = []
        while best:
            levels.append(best)
            best = self.territory[best][0]
        return levels

    def _depth(self, name: str) -> int:
        depth = 0
        while self.territory[name][0]:
            name, depth = self.territory[name][0], depth + 1
        return depth

    def _holds(self, lead: Lead, cond: dict) -> bool:
        op, value = cond["op"], cond["value"]
        fact = lead.extra.get(cond["field"][6:]) if cond["field"].startswith("extra.") else getattr(lead, cond["field"])
        if op == "in_territory":
            return self._in_territory(lead, value)
        if op == "email_domain_in":
            return lead.email_domain in value
        if op == "is_empty":
            return fact in (None, "")
        if fact in (None, ""):
            return op in ("not_equals", "not_in")
        return {
            "equals": lambda: fact == value,
            "not_equals": lambda: fact != value,
            "in": lambda: fact in value,
            "not_in": lambda: fact not in value,
            "contains": lambda: value in str(fact),
            "starts_with": lambda: str(fact).startswith(value),
            "gte": lambda: fact >= value,
            "lte": lambda: fact <= value,
            "between": lambda: value[0] <= fact <= value[1],
        }[op]()

    def _pool(self, lead: Lead, spec: dict) -> tuple[list[Rep], str | None]:
        pool = {self.reps[e].pk: self.reps[e] for e in spec["pool"]["reps"]}
        team = spec["pool"]["team"]
        pool.update({r.pk: r for r in self.reps.values() if team and r.team.name == team} if team else {})
        territory = spec["pool"]["territory"]
        if territory == "matched":
            for level in self._matched_levels(lead):
                found = self._territory_members(level)
                if found:
                    return found, level
            return [], None
        if territory:
            pool.update({r.pk: r for r in self._territory_members(territory)})
        return list(pool.values()), territory

    def _territory_members(self, name: str) -> list[Rep]:
        members = list(self.territory_reps[name])
        for child in self.children[name]:
            members += self._territory_members(child)
        return members

    def _eligible(self, reps: list[Rep], spec: dict, at: dt.datetime, exclude=()) -> tuple[list[Rep], list[dict]]:
        eligible, skipped = [], []
        required = set(spec["required_skills"])
        for rep in sorted(reps, key=lambda r: r.pk):
            reason = None
            if not rep.active:
                reason = "inactive"
            elif rep.pk in exclude:
                reason = "excluded"
            elif any(t.start <= at < t.end for t in rep.time_off.all()):
                reason = "on_time_off"
            elif required - self.rep_skills[rep.pk]:
                reason = "missing_skill"
            if reason:
                skipped.append({"rep": rep.name, "rep_id": rep.pk, "reason": reason})
            else:
                eligible.append(rep)
        return eligible, skipped

    def _decide(self, lead: Lead, at: dt.datetime, exclude=()) -> tuple[str, dict | None, Rep | None, dict]:
        """(outcome, rule spec, rep, reason trace) the way the engine would explain it."""
        tried = []
        for spec in sorted(RULES, key=lambda r: r["priority"]):
            rule = self.rules[spec["name"]]
            failed = next((c for c in spec["conditions"] if not self._holds(lead, c)), None)
            if failed:
                tried.append(
                    {
                        "rule": rule.name,
                        "rule_id": rule.pk,
                        "result": "no_match",
                        "failed": f"{failed['field']} {Operator(failed['op']).label} {failed['value']}",
                    }
                )
                continue
            pool, territory = self._pool(lead, spec)
            eligible, skipped = self._eligible(pool, spec, at, exclude)
            entry = {"rule": rule.name, "rule_id": rule.pk}
            if spec["strategy"] == "pool" and eligible:
                tried.append({**entry, "result": "pooled", "strategy": "pool"})
                return "pooled", spec, None, {"outcome": "pooled", "rules": tried}
            if not eligible:
                tried.append({**entry, "result": "no_eligible_rep" if pool else "empty_pool", "skipped": skipped})
                if spec["when_none_eligible"] == "hold":
                    tried[-1]["result"] += "; held"
                    return "pooled", spec, None, {"outcome": "pooled", "rules": tried}
                continue
            rep = self._pick(spec, eligible)
            tried.append(
                {
                    **entry,
                    "result": "assigned",
                    "rep": rep.name,
                    "rep_id": rep.pk,
                    "strategy": spec["strategy"],
                    "skipped": skipped,
                    **({"territory": territory} if territory else {}),
                }
            )
            return "assigned", spec, rep, {"outcome": "assigned", "rules": tried}
        return "unroutable", None, None, {"outcome": "unroutable", "rules": tried}

    def _pick(self, spec: dict, eligible: list[Rep]) -> Rep:
        if spec["strategy"] in ("round_robin", "direct"):
            if spec["strategy"] == "direct":
                return eligible[0]
            self.rotation[spec["name"]] += 1
            return eligible[self.rotation[spec["name"]] % len(eligible)]
        if spec["strategy"] == "load_balanced":
            return min(eligible, key=lambda r: (self.open_count[r.pk] / max(r.capacity, 1), self.rng.random()))
        return self.rng.choices(eligible, [float(r.weight) * self.skill_of[r.pk] for r in eligible])[0]

    # --- what happened next -----------------------------------------------------------

    def write(self) -> None:
        rng, now = self.rng, self.now
        self.rep_skills = {
            r.pk: {rs.skill.name for rs in r.rep_skills.select_related("skill")} for r in self.reps.values()
        }
        # Each rep's habits: how fast they call back and how well they close.
        self.skill_of = {pk: rng.uniform(0.7, 1.4) for pk in self.reps_by_pk()}
        speed = {pk: rng.uniform(0.4, 2.5) for pk in self.reps_by_pk()}
        win = {pk: rng.uniform(0.08, 0.32) for pk in self.reps_by_pk()}
        companies = self._companies(max(60, self.lead_count // 4))
        popularity = [rng.lognormvariate(0, 0.9) for _ in companies]  # a few companies send many leads
        times = sorted(self._created_at() for _ in range(self.lead_count - PENDING_COUNT))
        times += sorted(now - dt.timedelta(minutes=rng.uniform(1, 90)) for _ in range(PENDING_COUNT))
        leads = [self._lead(i, rng.choices(companies, popularity)[0], at) for i, at in enumerate(times)]
        plans = []  # per lead: list of (assignment kwargs), list of (event kwargs)
        for lead in leads[: len(leads) - PENDING_COUNT]:
            plans.append(self._story(lead, speed, win))
        Lead.objects.bulk_create(leads, batch_size=1000)
        assignments, events = [], []
        for lead, (rows, lead_events) in zip(leads, plans, strict=False):
            assignments += [Assignment(lead=lead, **row) for row in rows]
            events += [LeadEvent(lead=lead, **event) for event in lead_events]
        Assignment.objects.bulk_create(assignments, batch_size=1000)
        LeadEvent.objects.bulk_create(events, batch_size=1000)
        assignment_facts_fill()  # the history was written in bulk, around the services that keep the facts
        self._counters(assignments)
        self.result.accounts_created = self._accounts(leads)
        self.result.leads_created, self.result.assignments_created = len(leads), len(assignments)
        self.result.events_created = len(events)

    def reps_by_pk(self) -> list[int]:
        return sorted(r.pk for r in self.reps.values())

    def _created_at(self) -> dt.datetime:
        """Business-hours heavy, fewer at weekends, spread over the last 90 days (not the last 2 hours)."""
        while True:
            at = self.now - dt.timedelta(minutes=self.rng.uniform(120, HISTORY_DAYS * 24 * 60))
            weekend = at.weekday() >= 5
            office = 7 <= at.hour <= 19
            if self.rng.random() < (0.25 if weekend else 1.0) * (1.0 if office else 0.35):
                return at

    def _story(self, lead: Lead, speed: dict, win: dict) -> tuple[list[dict], list[dict]]:
        rng, now = self.rng, self.now
        routed_at = lead.created_at + dt.timedelta(seconds=rng.uniform(1, 20))
        outcome, spec, rep, reason = self._decide(lead, routed_at)
        version = 1
        rule = self.rules[spec["name"]] if spec else None
        row = {
            "outcome": outcome,
            "rep": rep,
            "rule": rule,
            "rule_name": rule.name if rule else "",
            "strategy": spec["strategy"] if spec else "",
            "rule_set_version": version,
            "reason": reason,
            "created_at": routed_at,
        }
        rows, events = [row], []
        if outcome == "unroutable":
            lead.status = LeadStatus.UNROUTABLE
            return rows, events
        if outcome == "pooled":
            # Held by a `hold` rule, or in a claim pool and too recent to be claimed yet: still waiting.
            if now - lead.created_at < dt.timedelta(days=1) or spec["strategy"] != "pool":
                lead.status, lead.pool_rule = LeadStatus.POOLED, rule
                return rows, events
            members, _ = self._pool(lead, spec)
            eligible, _ = self._eligible(members, spec, routed_at)
            rep = rng.choice(eligible)
            claimed_at = routed_at + dt.timedelta(minutes=rng.lognormvariate(3.5, 1.0))
            row.update(ended_at=claimed_at, end_reason=Assignment.EndReason.REASSIGNED)  # as lead_claim ends it
            rows.append(
                {
                    "outcome": "assigned",
                    "rep": rep,
                    "rule": rule,
                    "rule_name": rule.name,
                    "strategy": POOL_CLAIM,
                    "decided_by": Assignment.DecidedBy.USER,
                    "rule_set_version": version,
                    "created_at": claimed_at,
                    "reason": {
                        "outcome": "assigned",
                        "claimed": True,
                        "rule": rule.name,
                        "rule_id": rule.pk,
                        "rep": rep.name,
                        "rep_id": rep.pk,
                        "by": rep.name,
                    },
                }
            )
            routed_at = claimed_at
        age = now - routed_at
        roll = rng.random()
        if roll < 0.03 and age > dt.timedelta(days=1):  # the rep says it is not theirs
            flagged_at = routed_at + dt.timedelta(minutes=rng.uniform(10, 2 * 24 * 60))
            events.append(
                {
                    "type": LeadEventType.MISROUTED,
                    "rep": rep,
                    "at": flagged_at,
                    "note": rng.choice(["Wrong territory", "Existing customer of another rep", "Not my segment"]),
                }
            )
            rows[-1].update(ended_at=flagged_at, end_reason=Assignment.EndReason.MISROUTED)
            outcome, spec2, new_rep, reason2 = self._decide(lead, flagged_at, exclude={rep.pk})
            if outcome != "assigned":
                lead.status = LeadStatus.UNROUTABLE if outcome == "unroutable" else LeadStatus.POOLED
                rows.append(
                    {
                        "outcome": outcome,
                        "rule": self.rules.get(spec2["name"]) if spec2 else None,
                        "rule_name": spec2["name"] if spec2 else "",
                        "reason": reason2,
                        "created_at": flagged_at,
                        "rule_set_version": version,
                    }
                )
                lead.owner, lead.pool_rule = (
                    None,
                    self.rules.get(spec2["name"]) if spec2 and outcome == "pooled" else None,
                )
                return rows, events
            rows.append(
                {
                    "outcome": "assigned",
                    "rep": new_rep,
                    "rule": self.rules[spec2["name"]],
                    "rule_name": spec2["name"],
                    "strategy": spec2["strategy"],
                    "rule_set_version": version,
                    "reason": reason2,
                    "created_at": flagged_at + dt.timedelta(seconds=3),
                }
            )
            rep, routed_at = new_rep, flagged_at
        elif roll < 0.05 and age > dt.timedelta(days=1):  # ops move it by hand
            moved_at = routed_at + dt.timedelta(minutes=rng.uniform(30, 5 * 24 * 60))
            candidates = [r for r in self.reps.values() if r.active and r.team_id == rep.team_id and r.pk != rep.pk]
            if candidates:
                new_rep = rng.choice(candidates)
                rows[-1].update(ended_at=moved_at, end_reason=Assignment.EndReason.REASSIGNED)
                rows.append(
                    {
                        "outcome": "assigned",
                        "rep": new_rep,
                        "strategy": MANUAL,
                        "decided_by": Assignment.DecidedBy.USER,
                        "decided_by_user": self.admin,
                        "rule_set_version": version,
                        "created_at": moved_at,
                        "reason": {
                            "outcome": "assigned",
                            "manual": True,
                            "by": self.admin.username,
                            "rep": new_rep.name,
                            "rep_id": new_rep.pk,
                            "from": rep.name,
                            "from_status": "assigned",
                        },
                    }
                )
                rep, routed_at = new_rep, moved_at
        lead.owner, lead.assigned_at, lead.status = rep, routed_at, LeadStatus.ASSIGNED
        self._outcome(lead, rep, routed_at, events, speed, win)
        return rows, events

    def _outcome(self, lead: Lead, rep: Rep, routed_at: dt.datetime, events: list, speed: dict, win: dict) -> None:
        rng, now = self.rng, self.now
        age = now - routed_at
        contacted_at = None
        if rng.random() < 0.88:
            # Speed-to-lead: log-normal around ~15 minutes, scaled by the rep's habit.
            delay = dt.timedelta(minutes=rng.lognormvariate(2.7, 1.5) * speed[rep.pk])
            if routed_at + delay < now:
                contacted_at = routed_at + delay
                lead.first_contacted_at = contacted_at
                events.append({"type": LeadEventType.CONTACTED, "rep": rep, "at": contacted_at})
        start = contacted_at or routed_at
        closes = age > dt.timedelta(days=30) or (age > dt.timedelta(days=3) and rng.random() < 0.55)
        if not closes and self.open_count[rep.pk] >= int(rep.capacity * 0.85):
            closes = age > dt.timedelta(hours=6)  # busy reps close out older leads
        if not closes:
            self.open_count[rep.pk] += 1
            return
        closed_at = min(start + dt.timedelta(days=rng.uniform(0.5, 25)), now - dt.timedelta(minutes=5))
        score_factor = 0.5 + (lead.score or 50) / 100
        converted = contacted_at is not None and rng.random() < win[rep.pk] * score_factor * 1.6
        lead.status = LeadStatus.CONVERTED if converted else LeadStatus.LOST
        lead.closed_at = closed_at
        note = "" if converted else rng.choice(["No budget this year", "Chose a competitor", "No response", "Timing"])
        events.append(
            {
                "type": LeadEventType.CONVERTED if converted else LeadEventType.LOST,
                "rep": rep,
                "at": closed_at,
                "note": note,
            }
        )

    def _counters(self, assignments: list[Assignment]) -> None:
        daily, last = Counter(), {}
        for a in assignments:
            if a.outcome == "assigned" and a.decided_by == Assignment.DecidedBy.ENGINE and a.rep is not None:
                daily[(a.rep.pk, a.created_at.astimezone(ZoneInfo(a.rep.timezone)).date())] += 1
                last[a.rep.pk] = max(last.get(a.rep.pk, a.created_at), a.created_at)
        RepDailyCount.objects.bulk_create(
            [RepDailyCount(rep_id=rep_id, day=day, assigned=n) for (rep_id, day), n in daily.items()],
            batch_size=1000,
            ignore_conflicts=True,
        )
        by_pk = {r.pk: r for r in self.reps.values()}
        for pk, at in last.items():
            by_pk[pk].last_assigned_at = at
        Rep.objects.bulk_update([by_pk[pk] for pk in last], ["last_assigned_at"])

    def _accounts(self, leads: list[Lead]) -> int:
        """Companies that already bought or talk to us: their domain belongs to the rep of their first lead."""
        first_owner, seen = {}, Counter()
        for lead in leads:
            if lead.owner_id and lead.company:
                seen[lead.email_domain] += 1
                first_owner.setdefault(lead.email_domain, (lead.company, lead.owner))
        chosen = [d for d, n in seen.most_common() if n >= 3][:60]
        existing = set(Account.objects.filter(domain__in=chosen).values_list("domain", flat=True))
        accounts = [
            Account(name=first_owner[d][0], domain=d, owner=first_owner[d][1]) for d in chosen if d not in existing
        ]
        Account.objects.bulk_create(accounts)
        return len(accounts)
