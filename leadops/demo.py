"""Demo data: a believable B2B sales org with 90 days of routed leads and their outcomes.

`demo_seed()` is deterministic (fixed seeds) and safe to run again:
- the routing set-up (skills, teams, nested territories, reps, rules) goes through the routing
  file loader, so it is upserted by natural key like `load_routing` does;
- users, the Managers group, integrations and accounts are get-or-create by natural key;
- the lead history is written once: demo leads carry `external_id` "demo-…", and when any
  exists the history is left alone.
The history's owners are the engine's: its leads are replayed oldest first through
routing/replay.py (the replay simulation uses: time off, working hours and daily caps judged at
each lead's creation time), with what people did next (claims from pools, misrouted flags and
their re-routes, hand moves, contacts, wins and losses) in time order between the decisions.
Then it is written in bulk: leads with their final owner/status/timestamps, the assignments
as live routing writes them (routing/services/route.py's rows, the engine's reason traces),
outcome events, the SLAs the watch would have settled as the history went by (met, or breached
with its event), and the daily counts, rotation cursors and idle clocks the replay ended with.
It takes seconds. The newest leads are left `pending` for `route_pending`.
"""

from __future__ import annotations

import datetime as dt
import heapq
import random
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django.utils import timezone
from faker import Faker

from leadops.models import Account, Integration, Lead, LeadEvent, LeadEventType, LeadStatus
from reps.models import Rep, Team
from routing.engine import ASSIGNED, POOL, UNROUTABLE, LeadFacts, claim_refusal, claim_trace, manual_trace
from routing.models import Assignment, RepDailyCount, RuleSet
from routing.replay import Replay, ReplaySetup, ReplayStart
from routing.routing_file import routing_config_dump, routing_config_load
from routing.selectors import rep_local_day
from routing.services.assignments import MANUAL, POOL_CLAIM, user_label
from routing.services.facts import assignment_facts_fill, assignment_first_decision_fill, assignment_reassigned_fill
from routing.services.route import assignment_from_row, assignment_row, rotation_cursors_save
from routing.services.sla import sla_breach_note, sla_met_at
from routing.services.snapshot import lead_facts

SEED = 20261123
LEAD_COUNT = 5200
HISTORY_DAYS = 90
PENDING_COUNT = 40  # the newest leads, left for `make demo`'s route step
# Leads from someone who wrote before (same person, same e-mail): existing-owner routing gives them to the
# rep who had them, as it would live.
RETURNING_SHARE = 0.06
SLA_WATCH_EVERY = dt.timedelta(minutes=1)  # the SLA watch's schedule (routing/cron.py)
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


# What happens to a lead between decisions: steps of the history, in time order.
ROUTE, CLAIM, MOVE = "_route", "_claim", "_move"


@dataclass
class _Story:
    """One lead's history: its assignments (unsaved, oldest first) and what its reps did with it."""

    lead: Lead
    facts: LeadFacts
    assignments: list[Assignment] = field(default_factory=list)
    events: list[dict] = field(default_factory=list)
    sent_back: bool = False  # flagged misrouted or moved by hand already: its next owner keeps it


class _History:
    """Generates 90 days of leads, routes them through the engine oldest first (routing/replay.py, the
    replay simulation uses), adds what people did (claims, misrouted flags, hand moves, contacts,
    wins and losses), then writes it all in bulk."""

    def __init__(self, *, now: dt.datetime, lead_count: int, result: DemoResult):
        self.now, self.lead_count, self.result = now, lead_count, result
        self.rng = random.Random(SEED)
        self.fake = Faker(sorted({p[1] for p in PLACES.values()}))
        self.fake.seed_instance(SEED)
        self.admin = get_user_model().objects.get(username=ADMIN_USERNAME)
        self.integrations = {source: Integration.objects.get(name=name) for source, name in INTEGRATIONS.items()}
        self.users = {rep.pk: rep.user for rep in Rep.objects.filter(user__isnull=False).select_related("user")}
        self.people: dict[str, list[tuple[str, str]]] = {}  # company domain -> (first, last) of who wrote before

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
        known = self.people.setdefault(company["domain"], [])
        if known and self.rng.random() < RETURNING_SHARE:
            first, last = self.rng.choice(known)  # writes again
        else:
            first, last = self.fake[locale].first_name(), self.fake[locale].last_name()
            known.append((first, last))
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

    # --- who got it: the engine, then people ---------------------------------------------

    def _replay(self, leads: list[Lead]) -> None:
        """Each lead decided by the engine at its creation time, oldest first, from the state at the
        history's start; claims, misrouted flags (and their re-routes) and hand moves happen in time
        order between the decisions, and count in the reps' load as they would live."""
        rng = self.rng
        document = routing_config_dump()
        self.setup = ReplaySetup.from_document(document, version=RuleSet.current().version)
        rule_ids = {name: rule_id for rule_id, name in self.setup.rule_name.items()}
        self.sla_minutes = {rule_ids[r["name"]]: r["sla_minutes"] for r in document["rules"] if r.get("sla_minutes")}
        # The demo's people are new: no earlier leads of theirs to look up.
        start = ReplayStart.load(at=leads[0].created_at)
        self.replay = Replay(self.setup, start, until=self.now)
        self.rules = {r.id: r for r in self.setup.rules}
        # Each rep's habits: how fast they call back and how well they close.
        self.speed = {pk: rng.uniform(0.4, 2.5) for pk in sorted(self.setup.reps)}
        self.win = {pk: rng.uniform(0.08, 0.32) for pk in sorted(self.setup.reps)}
        self.unworked_claims = defaultdict(list)  # (rep id, rule id) -> until when each claimed lead is unworked
        self.first_of_email = {}  # e-mail -> the lead whose assignment made its rep the e-mail's earlier owner
        self.stories = []
        for n, lead in enumerate(leads):
            facts = lead_facts(lead)
            facts.id = n  # no row yet: its place in the history stands for its id
            self.stories.append(_Story(lead, facts))
        self.queue = [(lead.created_at, n, ROUTE, n, None) for n, lead in enumerate(leads)]
        self.seq = len(leads)
        while self.queue:
            at, _, step, n, arg = heapq.heappop(self.queue)
            getattr(self, step)(self.stories[n], at, arg)

    def _later(self, at: dt.datetime, step: str, story: _Story, arg=None) -> None:
        self.seq += 1
        heapq.heappush(self.queue, (at, self.seq, step, story.facts.id, arg))

    def _route(self, story: _Story, at: dt.datetime, sent_back_by: int | None) -> None:
        """The engine decides, as the router would at `at` (without the rep who sent the lead back)."""
        facts = story.facts
        if sent_back_by is not None:
            facts.excluded_rep_ids = frozenset({sent_back_by})
            # Live routing does not count a lead as its own earlier lead (snapshot._owner_lookups).
            if self.first_of_email.get(facts.email) == facts.id:
                self.replay.engine.earlier_owners.pop(facts.email.strip().casefold(), None)
        decision = self.replay.decide(facts, at=at)
        if decision.outcome == ASSIGNED:
            self.first_of_email.setdefault(facts.email, facts.id)
        rule_name = self.setup.rule_name.get(decision.rule_id, "")
        due = self._sla_due(decision.rule_id, at) if decision.outcome != UNROUTABLE else None
        row = assignment_row(
            decision,
            rule_name=rule_name,
            version=self.setup.version,
            at=at,
            lead_created_at=story.lead.created_at,
            sla_due_at=due,
        )
        story.assignments.append(assignment_from_row(row))
        lead = story.lead
        if decision.outcome == ASSIGNED:
            self._owned(story, decision.rep_id, at)
            return
        lead.owner_id, lead.assigned_at = None, None
        if decision.outcome == UNROUTABLE:
            lead.status, lead.pool_rule_id = LeadStatus.UNROUTABLE, None
            return
        lead.status, lead.pool_rule_id = LeadStatus.POOLED, decision.rule_id
        # A team pool's lead is claimed by a member; the last day's are still waiting, and so are
        # leads a `hold` rule keeps.
        claim_at = at + dt.timedelta(minutes=self.rng.lognormvariate(3.5, 1.0))
        if decision.strategy == POOL and not decision.held and claim_at < self.now - dt.timedelta(days=1):
            self._later(claim_at, CLAIM, story)

    def _claim(self, story: _Story, at: dt.datetime, _=None) -> None:
        """A pool member who may claim now (engine.claim_refusal, as lead_claim checks) takes the lead."""
        rule, reps = self.rules[story.lead.pool_rule_id], self.setup.reps
        self.replay.advance(at)
        members = sorted(self.replay.engine.pool_rep_ids(rule.id, story.facts))
        free = [
            rid
            for rid in members
            if claim_refusal(reps[rid], rule=rule, open_claimed=self._unworked(rid, rule.id, at), now=at) is None
        ]
        if not free:
            retry = at + dt.timedelta(hours=self.rng.uniform(1, 8))
            if retry < self.now - dt.timedelta(hours=2):
                self._later(retry, CLAIM, story)
            return
        rep = reps[self.rng.choice(free)]
        user = self.users.get(rep.id)
        self._end(story, at, Assignment.EndReason.REASSIGNED)  # as lead_claim ends the pooling
        story.assignments.append(
            Assignment(
                outcome=Assignment.Outcome.ASSIGNED,
                rep_id=rep.id,
                rule_id=rule.id,
                rule_name=rule.name,
                strategy=POOL_CLAIM,
                decided_by=Assignment.DecidedBy.USER,
                decided_by_user=user,
                rule_set_version=self.setup.version,
                created_at=at,
                sla_due_at=self._sla_due(rule.id, at),
                reason=claim_trace(rule=rule.name, rule_id=rule.id, rep=rep.name, rep_id=rep.id, by=user_label(user)),
            )
        )
        self.replay.given_by_hand(rep.id, at=at)
        self.unworked_claims[(rep.id, rule.id)].append(self._owned(story, rep.id, at))

    def _sla_due(self, rule_id: int | None, at: dt.datetime) -> dt.datetime | None:
        minutes = self.sla_minutes.get(rule_id)
        return at + dt.timedelta(minutes=minutes) if minutes else None

    def _unworked(self, rep_id: int, rule_id: int, at: dt.datetime) -> int:
        """Leads the rep claimed from the rule's pool and still holds uncontacted at `at` (the claim limit)."""
        return sum(1 for until in self.unworked_claims[(rep_id, rule_id)] if until is None or until > at)

    def _move(self, story: _Story, at: dt.datetime, from_rep: int) -> None:
        """Ops move the lead by hand to a teammate with room (leads_reassign's checks)."""
        self.replay.advance(at)
        reps = self.setup.reps
        team = reps[from_rep].team_id
        room = [r.id for r in reps.values() if r.active and r.id != from_rep and r.open_leads < r.capacity]
        teammates = sorted(rid for rid in room if reps[rid].team_id == team)
        if not room:  # nobody could take it: it stays where it was
            self.replay.given_by_hand(from_rep, at=at)
            self._outcome(story, from_rep, at)
            return
        new = reps[self.rng.choice(teammates or sorted(room))]
        self._end(story, at, Assignment.EndReason.REASSIGNED)
        story.assignments.append(
            Assignment(
                outcome=Assignment.Outcome.ASSIGNED,
                rep_id=new.id,
                strategy=MANUAL,
                decided_by=Assignment.DecidedBy.USER,
                decided_by_user=self.admin,
                rule_set_version=self.setup.version,
                created_at=at,
                reason=manual_trace(
                    by=user_label(self.admin),
                    rep=new.name,
                    rep_id=new.id,
                    from_rep=reps[from_rep].name,
                    from_status=LeadStatus.ASSIGNED,
                ),
            )
        )
        self.replay.given_by_hand(new.id, at=at)
        self._owned(story, new.id, at)

    def _end(self, story: _Story, at: dt.datetime, reason: str) -> None:
        current = story.assignments[-1]
        current.ended_at, current.end_reason = at, reason

    # --- what happened next -----------------------------------------------------------

    def _owned(self, story: _Story, rep_id: int, at: dt.datetime) -> dt.datetime | None:
        """`rep_id` owns the lead from `at`. Once per lead the rep may flag it misrouted (it goes back
        to routing without them) or ops may move it; else its outcome follows. Returns when it stops
        being unworked (contacted, closed or taken away), None if never."""
        rng, now, lead = self.rng, self.now, story.lead
        lead.owner_id, lead.assigned_at, lead.status, lead.pool_rule_id = rep_id, at, LeadStatus.ASSIGNED, None
        if not story.sent_back and now - at > dt.timedelta(days=1):
            roll = rng.random()
            if roll < 0.03:  # the rep says it is not theirs
                flagged_at = at + dt.timedelta(minutes=rng.uniform(10, 2 * 24 * 60))
                if flagged_at < now - dt.timedelta(hours=1):
                    story.sent_back = True
                    note = rng.choice(["Wrong territory", "Existing customer of another rep", "Not my segment"])
                    story.events.append(
                        {"type": LeadEventType.MISROUTED, "rep_id": rep_id, "at": flagged_at, "note": note}
                    )
                    self._end(story, flagged_at, Assignment.EndReason.MISROUTED)
                    self.replay.closes(rep_id, flagged_at)
                    self._later(flagged_at + dt.timedelta(seconds=3), ROUTE, story, rep_id)
                    return flagged_at
            elif roll < 0.05:  # ops move it by hand
                moved_at = at + dt.timedelta(minutes=rng.uniform(30, 5 * 24 * 60))
                if moved_at < now - dt.timedelta(hours=1):
                    story.sent_back = True
                    self.replay.closes(rep_id, moved_at)
                    self._later(moved_at, MOVE, story, rep_id)
                    return moved_at
        return self._outcome(story, rep_id, at)

    def _outcome(self, story: _Story, rep_id: int, routed_at: dt.datetime) -> dt.datetime | None:
        rng, now, lead = self.rng, self.now, story.lead
        age = now - routed_at
        contacted_at = None
        if rng.random() < 0.88:
            # Speed-to-lead: log-normal around ~15 minutes, scaled by the rep's habit.
            delay = dt.timedelta(minutes=rng.lognormvariate(2.7, 1.5) * self.speed[rep_id])
            if routed_at + delay < now:
                contacted_at = routed_at + delay
                lead.first_contacted_at = contacted_at
                story.events.append({"type": LeadEventType.CONTACTED, "rep_id": rep_id, "at": contacted_at})
        start = contacted_at or routed_at
        closes = age > dt.timedelta(days=30) or (age > dt.timedelta(days=3) and rng.random() < 0.55)
        rep = self.setup.reps[rep_id]
        if not closes and rep.open_leads >= int(rep.capacity * 0.85):
            closes = age > dt.timedelta(hours=6)  # busy reps close out older leads
        if not closes:
            return contacted_at
        closed_at = min(start + dt.timedelta(days=rng.uniform(0.5, 25)), now - dt.timedelta(minutes=5))
        self.replay.closes(rep_id, closed_at)
        score_factor = 0.5 + (lead.score or 50) / 100
        converted = contacted_at is not None and rng.random() < self.win[rep_id] * score_factor * 1.6
        lead.status = LeadStatus.CONVERTED if converted else LeadStatus.LOST
        lead.closed_at = closed_at
        note = "" if converted else rng.choice(["No budget this year", "Chose a competitor", "No response", "Timing"])
        story.events.append(
            {
                "type": LeadEventType.CONVERTED if converted else LeadEventType.LOST,
                "rep_id": rep_id,
                "at": closed_at,
                "note": note,
            }
        )
        return contacted_at or closed_at

    def _sla_settle(self) -> None:
        """What the SLA watch (routing/services/sla.py, every minute) settled as the history went by:
        each assignment still current when its SLA fell due, met or breached by the watch's own rule.
        The demo's rules notify on a breach (no re-route). Those due in the last minute are left to it."""
        for story in self.stories:
            contacts = sorted(e["at"] for e in story.events if e["type"] == LeadEventType.CONTACTED)
            for assignment in story.assignments:
                due = assignment.sla_due_at
                if due is None:
                    continue
                watched_at = due + SLA_WATCH_EVERY
                if watched_at >= self.now or (assignment.ended_at is not None and assignment.ended_at <= watched_at):
                    continue  # not due yet, or it ended first: never settled
                contact = next((t for t in contacts if assignment.created_at <= t <= due), None)
                met_at = sla_met_at(due=due, contact=contact, closed=story.lead.closed_at)
                if met_at is not None:
                    assignment.sla_met_at = met_at
                    continue
                assignment.sla_breached_at = watched_at
                story.events.append(
                    {
                        "type": LeadEventType.SLA_BREACHED,
                        "rep_id": assignment.rep_id,
                        "at": watched_at,
                        "note": sla_breach_note(due=due, rule_name=assignment.rule_name),
                    }
                )

    # --- writing it ---------------------------------------------------------------------

    def write(self) -> None:
        rng, now = self.rng, self.now
        companies = self._companies(max(60, self.lead_count // 4))
        popularity = [rng.lognormvariate(0, 0.9) for _ in companies]  # a few companies send many leads
        times = sorted(self._created_at() for _ in range(self.lead_count - PENDING_COUNT))
        times += sorted(now - dt.timedelta(minutes=rng.uniform(1, 90)) for _ in range(PENDING_COUNT))
        leads = [self._lead(i, rng.choices(companies, popularity)[0], at) for i, at in enumerate(times)]
        self._replay(leads[: len(leads) - PENDING_COUNT])  # the newest are left for live routing
        self._sla_settle()
        Lead.objects.bulk_create(leads, batch_size=1000)
        assignments, events = [], []
        for story in self.stories:
            for assignment in story.assignments:
                assignment.lead, assignment.lead_created_at = story.lead, story.lead.created_at
            assignments += story.assignments
            events += [LeadEvent(lead=story.lead, **event) for event in story.events]
        Assignment.objects.bulk_create(assignments, batch_size=1000)
        LeadEvent.objects.bulk_create(events, batch_size=1000)
        assignment_facts_fill()  # the history was written in bulk, around the services that keep the facts
        assignment_reassigned_fill()
        assignment_first_decision_fill()
        self._routing_state(assignments)
        self.result.accounts_created = self._accounts(leads)
        self.result.leads_created, self.result.assignments_created = len(leads), len(assignments)
        self.result.events_created = len(events)

    def _routing_state(self, assignments: list[Assignment]) -> None:
        """Daily counts, rotation cursors and reps' idle clocks as the replay left them: live routing
        (the newest leads, `make demo`'s route step) goes on from there."""
        reps = self.setup.reps
        daily = Counter(
            (a.rep_id, rep_local_day(reps[a.rep_id].timezone, a.created_at))
            for a in assignments
            if a.outcome == Assignment.Outcome.ASSIGNED and a.decided_by == Assignment.DecidedBy.ENGINE
        )
        RepDailyCount.objects.bulk_create(
            [RepDailyCount(rep_id=rep_id, day=day, assigned=n) for (rep_id, day), n in daily.items()],
            batch_size=1000,
            ignore_conflicts=True,
        )
        rotation_cursors_save(self.replay.engine.cursors.values(), self.now)
        idle = {r.id: r.last_assigned_at for r in reps.values() if r.last_assigned_at is not None}
        rows = list(Rep.objects.filter(id__in=list(idle)).only("id", "last_assigned_at"))
        for rep in rows:
            rep.last_assigned_at = idle[rep.id]
        Rep.objects.bulk_update(rows, ["last_assigned_at"])

    def _created_at(self) -> dt.datetime:
        """Business-hours heavy, fewer at weekends, spread over the last 90 days (not the last 2 hours)."""
        while True:
            at = self.now - dt.timedelta(minutes=self.rng.uniform(120, HISTORY_DAYS * 24 * 60))
            weekend = at.weekday() >= 5
            office = 7 <= at.hour <= 19
            if self.rng.random() < (0.25 if weekend else 1.0) * (1.0 if office else 0.35):
                return at

    def _accounts(self, leads: list[Lead]) -> int:
        """Companies that already bought or talk to us: their domain belongs to the rep of their first lead."""
        first_owner, seen = {}, Counter()
        for lead in leads:
            if lead.owner_id and lead.company:
                seen[lead.email_domain] += 1
                first_owner.setdefault(lead.email_domain, (lead.company, lead.owner_id))
        chosen = [d for d, n in seen.most_common() if n >= 3][:60]
        existing = set(Account.objects.filter(domain__in=chosen).values_list("domain", flat=True))
        accounts = [
            Account(name=first_owner[d][0], domain=d, owner_id=first_owner[d][1]) for d in chosen if d not in existing
        ]
        Account.objects.bulk_create(accounts)
        return len(accounts)
