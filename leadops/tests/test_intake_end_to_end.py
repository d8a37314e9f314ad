"""End to end on Postgres and Redis: post a lead, a real `rqworker` process assigns it, GET shows owner and reason."""

import os
import subprocess
import sys
from pathlib import Path

import django_rq
import pytest
from django.db import connection

from leadops.tests.conftest import client_for
from leadops.tests.factories import IntegrationFactory
from reps.tests.factories import RepFactory, TeamFactory
from routing.tests.factories import RuleFactory

ROOT = Path(__file__).resolve().parents[2]


def run_worker_burst(*queues: str) -> subprocess.CompletedProcess:
    """`manage.py rqworker QUEUES --burst` (default: routing) in its own process, on this test's database."""
    env = {**os.environ, "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{connection.settings_dict['NAME']}"}
    return subprocess.run(
        [sys.executable, "manage.py", "rqworker", *(queues or ("routing",)), "--burst"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_posted_lead_is_assigned_by_a_worker_and_get_shows_the_owner_and_the_reason():
    django_rq.get_queue("routing").empty()  # jobs other tests left for leads that are gone
    team = TeamFactory(name="Inbound")
    rep = RepFactory(team=team, name="Ana Ruiz", email="ana@example.com")
    RuleFactory(name="Inbound round robin", pool_team=team)
    api = client_for(IntegrationFactory())

    posted = api.post(
        "/api/leads/", {"external_id": "E2E-1", "email": "buyer@example.com", "country": "DE"}, format="json"
    )
    assert posted.status_code == 201 and posted.json()["status"] == "pending"
    assert django_rq.get_queue("routing").count >= 1

    worker = run_worker_burst()
    assert worker.returncode == 0, worker.stderr[-2000:]

    lead = api.get(f"/api/leads/{posted.json()['id']}/").json()
    assert lead["status"] == "assigned"
    assert lead["owner"] == {"id": rep.pk, "email": "ana@example.com", "name": "Ana Ruiz"}
    assert lead["assignment"]["rule"] == "Inbound round robin"
    assert lead["assignment"]["strategy"] == "round_robin" and lead["assignment"]["decided_by"] == "engine"
    assert lead["assignment"]["reason"]["rules"][0]["rule"] == "Inbound round robin"
