"""Real RQ workers on Postgres + Redis: a worker delivers after commit; a delivery worker killed
with SIGKILL mid-run, then the sweep: every delivery sent, and none recorded as answered 2xx is
sent again."""

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from collections import Counter

import django_rq
import pytest
from django.utils import timezone

from leadops.tests.factories import LeadFactory
from notifications.models import Delivery
from notifications.services.deliver import deliveries_sweep
from notifications.tests.factories import ChannelFactory
from reps.tests.factories import RepFactory, TeamFactory
from routing.services import leads_route
from routing.tests.factories import RuleFactory
from routing.tests.test_routing_concurrency import ROOT, subprocess_env

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]


def worker(*args) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "manage.py", "rqworker", "notifications", *args],
        cwd=ROOT,
        env=subprocess_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def route_leads(n: int) -> None:
    team = TeamFactory()
    RepFactory.create_batch(2, team=team, capacity=1000, daily_cap=1000, notify_email=False)
    RuleFactory(pool_team=team)
    leads_route(lead_ids=[lead.id for lead in LeadFactory.create_batch(n)])  # commits: the job is enqueued


def test_a_real_worker_delivers_after_the_routing_commit(receiver):
    django_rq.get_queue("notifications").empty()
    ChannelFactory(url=f"{receiver.url}/hook")
    route_leads(3)
    assert django_rq.get_queue("notifications").count == 1  # one dispatch job for the whole batch
    done = worker("--burst")
    out, err = done.communicate(timeout=120)
    assert done.returncode == 0, err[-2000:]
    assert len(receiver.requests) == 3
    assert set(Delivery.objects.values_list("status", flat=True)) == {"sent"}


def test_a_killed_delivery_worker_loses_nothing_and_the_sweep_never_resends_a_recorded_2xx(receiver):
    django_rq.get_queue("notifications").empty()
    receiver.delay_seconds = 0.05
    ChannelFactory(url=f"{receiver.url}/hook")
    route_leads(120)
    horse = worker("--worker-class", "rq.worker.SimpleWorker")  # the job runs in this very process
    deadline = time.monotonic() + 60
    while len(receiver.requests) < 40 and time.monotonic() < deadline:
        time.sleep(0.02)
    os.kill(horse.pid, signal.SIGKILL)
    horse.communicate(timeout=30)
    recorded = set(Delivery.objects.filter(status="sent").values_list("id", flat=True))
    assert 0 < len(recorded) < 120, "the kill should land mid-run"
    assert Delivery.objects.filter(status="sending").exists()  # in flight: leased to the dead worker

    result = deliveries_sweep(now=timezone.now() + dt.timedelta(minutes=16))  # the lease has run out

    assert result.sent + len(recorded) == 120
    assert set(Delivery.objects.values_list("status", flat=True)) == {"sent"}
    received = Counter(r.headers["x-leadops-delivery"] for r in receiver.requests if r.status == 200)
    assert set(received) == {str(i) for i in Delivery.objects.values_list("id", flat=True)}
    assert all(received[str(i)] == 1 for i in recorded)  # a recorded 2xx is never sent again
