"""Simulation: replaying a period's leads through the engine under the current set-up gives what
live routing gave; a draft moves exactly the leads it should; nothing is written."""

import copy
import datetime as dt
import io
import json
import random

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from leadops.models import Lead, LeadStatus
from reps.models import Rep
from routing.models import RotationCursor
from routing.routing_file import routing_config_load
from routing.services import leads_route
from routing.services.assignments import leads_reassign
from routing.simulation import routing_simulate

pytestmark = pytest.mark.django_db

MONTH_START = dt.datetime(2026, 10, 1, tzinfo=dt.UTC)
COUNTRIES = ["DE", "AT", "CH", "FR", "ES", "GB", "US"]
INDUSTRIES = ["airline", "software", "retail", "logistics"]


def _rep(email, team, *, tz="UTC", daily_cap=50, capacity=400, weight=1.0, skills=None, time_off=(), hours=None):
    return {
        "email": email,
        "name": email.split("@")[0].title(),
        "team": team,
        "territories": [],
        "skills": skills or {},
        "capacity": capacity,
        "daily_cap": daily_cap,
        "weight": weight,
        "timezone": tz,
        "working_hours": hours,
        "active": True,
        "time_off": [{"start": s, "end": e} for s, e in time_off],
    }


def live_setup() -> dict:
    """Five deterministic strategies, daily caps that bind, time off and working hours inside the month."""
    return {
        "skills": ["airline"],
        "teams": [{"name": "DACH"}, {"name": "Europe"}, {"name": "Americas"}, {"name": "Airlines"}],
        "territories": [],
        "reps": [
            _rep("ana@example.com", "DACH", daily_cap=6, time_off=[("2026-10-05T00:00:00Z", "2026-10-09T00:00:00Z")]),
            _rep("ben@example.com", "DACH", tz="Europe/Berlin", daily_cap=5),
            _rep("cem@example.com", "DACH", daily_cap=8, time_off=[("2026-10-20T12:00:00Z", "2026-10-22T06:00:00Z")]),
            _rep("dora@example.com", "Europe", weight=2.0, daily_cap=9),
            _rep("eli@example.com", "Europe", weight=0.5, daily_cap=4, tz="Europe/London"),
            _rep("fay@example.com", "Europe", daily_cap=7),
            _rep(
                "gus@example.com",
                "Americas",
                tz="America/New_York",
                capacity=60,
                hours={"start": "09:00", "end": "17:00", "days": [1, 2, 3, 4, 5]},
            ),
            _rep(
                "hal@example.com",
                "Americas",
                tz="America/Los_Angeles",
                capacity=45,
                hours={"start": "08:00", "end": "18:00", "days": [1, 2, 3, 4, 5, 6]},
            ),
            _rep("ivy@example.com", "Airlines", skills={"airline": 5}, daily_cap=5),
            _rep(
                "jon@example.com",
                "Airlines",
                skills={"airline": 3},
                daily_cap=6,
                time_off=[("2026-10-12T00:00:00Z", "2026-10-14T00:00:00Z")],
            ),
            _rep("kim@example.com", None, daily_cap=1000, capacity=100000),
        ],
        "rules": [
            {
                "name": "Airlines",
                "priority": 10,
                "strategy": "skill_score",
                "required_skills": ["airline"],
                "conditions": [{"field": "industry", "op": "equals", "value": "airline"}],
                "pool": {"team": "Airlines", "reps": [], "territory": None},
            },
            {
                "name": "DACH",
                "priority": 20,
                "strategy": "round_robin",
                "conditions": [{"field": "country", "op": "in", "value": ["DE", "AT", "CH"]}],
                "pool": {"team": "DACH", "reps": [], "territory": None},
            },
            {
                "name": "Europe",
                "priority": 30,
                "strategy": "weighted",
                "conditions": [{"field": "country", "op": "in", "value": ["FR", "ES", "GB", "DE"]}],
                "pool": {"team": "Europe", "reps": [], "territory": None},
            },
            {
                "name": "Americas",
                "priority": 40,
                "strategy": "load_balanced",
                "requires_working_hours": True,
                "conditions": [{"field": "country", "op": "equals", "value": "US"}],
                "pool": {"team": "Americas", "reps": [], "territory": None},
            },
            {
                "name": "Fallback",
                "priority": 900,
                "strategy": "direct",
                "pool": {"team": None, "reps": ["kim@example.com"], "territory": None},
            },
        ],
    }


def route_a_month(monkeypatch, *, clusters: int = 240, per_cluster: int = 9, seed: int = 7) -> list[int]:
    """Leads arrive in clusters through the month; each cluster is routed live at its arrival time,
    and some earlier leads convert or are lost as time goes on."""
    rng = random.Random(seed)
    ids: list[int] = []
    step = dt.timedelta(days=30) / clusters
    for c in range(clusters):
        at = MONTH_START + step * c + dt.timedelta(minutes=rng.randrange(60))
        monkeypatch.setattr(timezone, "now", lambda at=at: at)
        batch = Lead.objects.bulk_create(
            [
                Lead(
                    source=rng.choice(["web", "partner"]),
                    external_id=f"sim-{c}-{i}",
                    email=f"lead{c}-{i}@firm{rng.randrange(10**6)}.example",
                    company=f"Firm {c}-{i}",
                    country=rng.choice(COUNTRIES),
                    industry=rng.choice(INDUSTRIES),
                    created_at=at,
                )
                for i in range(per_cluster)
            ]
        )
        ids += [lead.id for lead in batch]
        leads_route(lead_ids=[lead.id for lead in batch])
        if c % 3 == 0 and len(ids) > 40:
            # Closed a moment after this cluster was routed (at the same instant the order would be a toss-up).
            closing, closed_at = rng.sample(ids[:-20], 4), at + dt.timedelta(seconds=1)
            for lead_id, status in zip(closing, [LeadStatus.CONVERTED, LeadStatus.LOST] * 2, strict=True):
                Lead.objects.filter(id=lead_id, status=LeadStatus.ASSIGNED).update(status=status, closed_at=closed_at)
    monkeypatch.undo()
    return ids


@pytest.mark.postgres
def test_simulation_of_the_current_set_up_equals_live_routing(monkeypatch):
    routing_config_load(live_setup())
    ids = route_a_month(monkeypatch)
    assigned = Lead.objects.filter(id__in=ids).exclude(owner=None).count()
    assert assigned > 1500  # the month really routed

    result = routing_simulate(start=dt.date(2026, 10, 1), end=dt.date(2026, 10, 31)).result

    assert result["leads"] == len(ids)
    assert result["changed_owner"] == 0, result["changed"][:5]
    assert all(r["actual"] == r["simulated"] for r in result["reps"]), result["reps"]
    assert {r["email"] for r in result["reps"]} >= {"ana@example.com", "gus@example.com", "ivy@example.com"}
    assert all(r["actual"] == r["simulated"] for r in result["rules"]), result["rules"]
    # Fetched 4 rows at a time, so most fetches end inside a cluster of 9 leads created at the same instant:
    # the same leads, in the same order, with the same first decisions.
    monkeypatch.setattr("routing.simulation.LEAD_CHUNK", 4)
    assert routing_simulate(start=dt.date(2026, 10, 1), end=dt.date(2026, 10, 31)).result == result


def _one_rep_per_team() -> dict:
    return {
        "skills": [],
        "teams": [{"name": "DACH"}, {"name": "Europe"}],
        "territories": [],
        "reps": [_rep("ana@example.com", "DACH"), _rep("dora@example.com", "Europe")],
        "rules": [
            {
                "name": "DACH",
                "priority": 10,
                "strategy": "round_robin",
                "conditions": [{"field": "country", "op": "in", "value": ["DE", "AT", "CH"]}],
                "pool": {"team": "DACH", "reps": [], "territory": None},
            },
            {
                "name": "Europe",
                "priority": 20,
                "strategy": "round_robin",
                "conditions": [{"field": "country", "op": "in", "value": ["FR", "ES", "GB", "CH"]}],
                "pool": {"team": "Europe", "reps": [], "territory": None},
            },
        ],
    }


def _route_some(countries: list[str]) -> list[Lead]:
    now = timezone.now()
    leads = Lead.objects.bulk_create(
        [
            Lead(
                source="web",
                external_id=f"x{i}",
                email=f"p{i}@f{i}.example",
                country=c,
                created_at=now - dt.timedelta(hours=len(countries) - i),
            )
            for i, c in enumerate(countries)
        ]
    )
    leads_route(lead_ids=[lead.id for lead in leads])
    return leads


def test_a_draft_moving_a_country_to_another_team_moves_exactly_those_leads(tmp_path):
    routing_config_load(_one_rep_per_team())
    leads = _route_some(["DE", "CH", "FR", "AT", "CH", "ES", "CH", "GB"])
    draft = copy.deepcopy(_one_rep_per_team())
    draft["rules"][0]["conditions"][0]["value"] = ["DE", "AT"]
    path = tmp_path / "draft.json"
    path.write_text(json.dumps(draft))
    out = io.StringIO()
    call_command("simulate_routing", str(path), "--json", stdout=out)
    result = json.loads(out.getvalue())
    swiss = {lead.id for lead in leads if lead.country == "CH"}
    assert result["changed_owner"] == 3
    assert {c["lead_id"] for c in result["changed"]} == swiss
    assert all(
        c["actual_rep"] == "ana@example.com"
        and c["simulated_rep"] == "dora@example.com"
        and c["simulated_rule"] == "Europe"
        for c in result["changed"]
    )
    assert "Europe" in result["changed"][0]["reason"]
    assert {r["email"]: (r["actual"], r["simulated"]) for r in result["reps"]} == {
        "ana@example.com": (5, 2),
        "dora@example.com": (3, 6),
    }
    assert {r["name"]: (r["actual"], r["simulated"]) for r in result["rules"]} == {"DACH": (5, 2), "Europe": (3, 6)}
    assert result["unroutable"] == {"actual": 0, "simulated": 0}


def test_leads_moved_by_hand_are_compared_with_their_first_decision(monkeypatch):
    """Each lead's simulated decision is set against its first real one, not the owner it has now."""
    routing_config_load(_one_rep_per_team())
    leads = _route_some(["DE", "FR", "AT", "ES", "CH"])
    dora = Rep.objects.get(email="dora@example.com")
    # Ops move the two DACH leads to Dora afterwards: a later Assignment for each.
    leads_reassign(lead_ids=[leads[0].id, leads[2].id], rep_id=dora.id)
    monkeypatch.setattr("routing.simulation.LEAD_CHUNK", 2)
    result = routing_simulate(start=timezone.localdate() - dt.timedelta(days=1), end=timezone.localdate()).result
    assert result["leads"] == 5 and result["changed_owner"] == 0, result["changed"]
    assert {r["email"]: (r["actual"], r["simulated"]) for r in result["reps"]} == {
        "ana@example.com": (3, 3),
        "dora@example.com": (2, 2),
    }


def test_simulation_table_and_bad_draft(tmp_path):
    routing_config_load(_one_rep_per_team())
    _route_some(["DE", "FR"])
    out = io.StringIO()
    call_command("simulate_routing", stdout=out)
    text = out.getvalue()
    assert "2 leads created" in text and "ana@example.com" in text and "deciding" in text
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"rules": [{"name": "X", "strategy": "coin_flip"}]}))
    with pytest.raises(CommandError, match='rules\\[0\\] "X": strategy'):
        call_command("simulate_routing", str(bad))
    with pytest.raises(CommandError, match="no such routing version"):
        call_command("simulate_routing", "--version", "77")


def _row_counts() -> dict:
    # Every table of ours and Django's (models without a table of their own, like django-rq's, left out).
    tables = set(connection.introspection.table_names())
    return {m._meta.label: m.objects.count() for m in apps.get_models() if m._meta.db_table in tables}


def test_simulation_writes_nothing():
    routing_config_load(_one_rep_per_team())
    _route_some(["DE", "CH", "FR", "AT", "ES"])
    before, cursors = _row_counts(), list(RotationCursor.objects.values_list("pool_key", "last_rep_id"))
    draft = copy.deepcopy(_one_rep_per_team())
    draft["reps"].append(_rep("new@example.com", "DACH"))
    result = routing_simulate(draft=draft).result
    assert result["leads"] == 5 and any(r["email"] == "new@example.com" for r in result["reps"])
    routing_simulate()
    assert _row_counts() == before
    assert list(RotationCursor.objects.values_list("pool_key", "last_rep_id")) == cursors
    if connection.vendor == "postgresql":
        # The replay ran read-only and left the surrounding transaction writable.
        Lead.objects.filter(id__in=[]).update(status="pending")


def test_test_a_lead_shows_the_decision_routing_then_makes(admin_client):
    from django.urls import reverse

    from routing.models import Assignment
    from routing.reasons import reason_html

    routing_config_load(_one_rep_per_team())
    _route_some(["DE", "FR", "CH"])  # rotation and load have moved
    before = _row_counts()
    url = reverse("admin:routing_rule_test_lead")
    assert url in admin_client.get(reverse("admin:routing_rule_changelist")).content.decode()
    response = admin_client.post(url, {"country": "ch", "industry": "retail", "setup": "current"})
    page = response.content.decode()
    trial = response.context["trial"]
    assert response.status_code == 200 and trial.rep_email == "ana@example.com" and trial.rule_name == "DACH"
    assert "To " in page and "by rule “DACH”" in page
    assert _row_counts() == before  # nothing written
    lead = Lead.objects.create(source="web", external_id="t1", email="z@z.example", country="CH", industry="retail")
    leads_route(lead_ids=[lead.id])
    assignment = Assignment.objects.get(lead=lead)
    assert assignment.rep.email == trial.rep_email and assignment.reason == trial.reason
    assert str(reason_html(trial.reason)) in page
    # The same lead under a draft that moves Switzerland to Europe.
    draft = copy.deepcopy(_one_rep_per_team())
    draft["rules"][0]["conditions"][0]["value"] = ["DE", "AT"]
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("draft.json", json.dumps(draft).encode(), content_type="application/json")
    response = admin_client.post(url, {"lead_id": lead.id, "setup": "draft", "draft": upload})
    assert response.context["trial"].rep_email == "dora@example.com"
    bad = admin_client.post(url, {"lead_id": 999999, "setup": "current"})
    assert bad.status_code == 200 and "There is no lead 999999." in bad.content.decode()


def test_admin_simulation_page_compares_and_loads_the_draft(admin_client):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.urls import reverse

    from routing.models import RoutingVersion, Rule

    routing_config_load(_one_rep_per_team())
    _route_some(["DE", "CH", "FR", "CH"])
    draft = copy.deepcopy(_one_rep_per_team())
    draft["rules"][0]["conditions"][0]["value"] = ["DE", "AT"]
    draft["rules"].append(
        {
            "name": "Nordics",
            "priority": 5,
            "conditions": [{"field": "country", "op": "equals", "value": "SE"}],
            "pool": {"team": "Europe", "reps": [], "territory": None},
        }
    )
    url = reverse("admin:routing_rule_simulate")
    assert url in admin_client.get(reverse("admin:routing_rule_changelist")).content.decode()
    upload = SimpleUploadedFile("draft.json", json.dumps(draft).encode(), content_type="application/json")
    before = _row_counts()
    response = admin_client.post(url, {"setup": "draft", "draft": upload, "simulate": "1"})
    page = response.content.decode()
    assert response.status_code == 200 and response.context["result"]["changed_owner"] == 2
    assert response.context["never_fired"] == ["Nordics"]
    assert "reps-figure" in page and "Load this draft" in page
    # Reps by the names ops know them by, in the table, the chart and the changed leads (CH: Ana → Dora).
    assert "<td>Ana</td><td>" in page and "<td>Dora</td><td>" in page and "<td>dora@example.com</td>" not in page
    assert response.context["figure"]["data"][0]["x"] == ["Ana", "Dora"]
    assert [(c["actual_label"], c["simulated_label"]) for c in response.context["changed"]] == [("Ana", "Dora")] * 2
    assert _row_counts() == before
    loaded = admin_client.post(url, {"load": "1", "draft_json": response.context["draft_json"]})
    version = RoutingVersion.objects.first()
    assert loaded.status_code == 302 and loaded.url.endswith(f"/{version.pk}/change/")
    assert 'rule "Nordics" added' in version.changes and Rule.objects.filter(name="Nordics").exists()
    bad = admin_client.post(url, {"setup": "draft", "simulate": "1"})
    assert "Choose a draft file" in bad.content.decode()
