"""POST /api/leads/?wait=N: the answer carries the owner when routing finishes in time, the
lead still `pending` at the timeout; bad values are refused before anything is stored."""

import subprocess
import sys
import time

import django_rq
import pytest
from django.db import connection
from rq import Worker

from leadops.models import Lead
from leadops.tests.conftest import client_for
from leadops.tests.factories import IntegrationFactory
from reps.tests.factories import RepFactory, TeamFactory
from routing.tests.factories import RuleFactory
from routing.tests.test_routing_concurrency import ROOT, subprocess_env


@pytest.fixture
def web_form(db):
    team = TeamFactory(name="Inbound")
    RepFactory(team=team, name="Ana Ruiz", email="ana@example.com", notify_email=False)
    RuleFactory(name="Inbound", pool_team=team, sla_minutes=30)
    return client_for(IntegrationFactory(name="web_form"))


@pytest.mark.parametrize("value", ["6", "-1", "soon", "nan"])
@pytest.mark.django_db
def test_a_bad_wait_is_refused_naming_the_field_and_stores_nothing(web_form, value):
    answer = web_form.post(f"/api/leads/?wait={value}", {"email": "x@example.com"}, format="json")
    assert answer.status_code == 400 and "wait" in answer.json()
    assert not Lead.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_wait_answers_at_the_timeout_with_the_lead_still_pending(web_form, monkeypatch):
    monkeypatch.setattr("leadops.services.leads.leads_enqueue_routing", lambda ids, **kw: None)  # no worker
    started = time.monotonic()
    answer = web_form.post("/api/leads/?wait=0.5", {"email": "x@example.com"}, format="json")
    took = time.monotonic() - started
    assert answer.status_code == 201 and answer.json()["status"] == "pending"
    assert 0.5 <= took < 2.5


@pytest.mark.django_db(transaction=True)
def test_the_schema_documents_wait(web_form, admin_client):
    schema = admin_client.get("/api/schema/", {"format": "json"}).json()
    parameters = schema["paths"]["/api/leads/"]["post"]["parameters"]
    assert any(p["name"] == "wait" and p["in"] == "query" for p in parameters)


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_wait_answers_with_the_owner_when_a_worker_routes_in_time(web_form):
    django_rq.get_queue("routing").empty()
    worker = subprocess.Popen(
        [sys.executable, "manage.py", "rqworker", "routing", "--worker-class", "rq.worker.SimpleWorker"],
        cwd=ROOT,
        env=subprocess_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not any(  # the worker listens (its start-up is not the wait)
            w.pid == worker.pid for w in Worker.all(queue=django_rq.get_queue("routing"))
        ):
            time.sleep(0.2)
        time.sleep(1)
        started = time.monotonic()
        answer = web_form.post("/api/leads/?wait=5", {"email": "buyer@example.com"}, format="json")
        took = time.monotonic() - started
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    lead = answer.json()
    assert answer.status_code == 201
    assert lead["status"] == "assigned" and lead["owner"]["email"] == "ana@example.com"
    assert lead["assignment"]["rule"] == "Inbound" and lead["assignment"]["sla_due_at"]
    assert took < 5
    assert connection.vendor == "postgresql"
