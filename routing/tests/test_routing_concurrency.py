"""Real processes routing at once on Postgres, and real RQ workers on Redis.

These commit for real (transaction=True) so other processes see the data; they skip on
SQLite (its locking says nothing about Postgres) and without REDIS_URL.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.db.models import Count, F, Q

from leadops.models import Lead
from reps.models import Rep
from reps.tests.factories import RepFactory, TeamFactory
from routing.models import Assignment, RepDailyCount
from routing.services import leads_enqueue_routing
from routing.tests.factories import RuleConditionFactory, RuleFactory

ROOT = Path(__file__).resolve().parents[2]

ROUTE_CHUNKS = """
import json, sys
import django
django.setup()
from routing.services import leads_route
for chunk in json.loads(sys.argv[1]):
    leads_route(lead_ids=chunk)
"""


def subprocess_env(**extra) -> dict:
    """The child processes use this test's database (test_…), not the developer's one."""
    db = connection.settings_dict
    env = dict(
        os.environ,
        DJANGO_SETTINGS_MODULE="leadops.settings",
        PYTHONPATH=str(ROOT),
        DATABASE_URL=f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        **extra,
    )
    return env


def bulk_leads(n: int, **facts) -> list[int]:
    Lead.objects.bulk_create(
        [
            Lead(
                source="concurrency",
                external_id=f"c-{i}",
                email=f"lead{i}@example{i % 97}.test",
                email_domain=f"example{i % 97}.test",
                **facts,
            )
            for i in range(n)
        ],
        batch_size=1000,
    )
    return list(Lead.objects.filter(source="concurrency").order_by("id").values_list("id", flat=True))


def assert_every_lead_decided_once(lead_ids):
    per_lead = Counter(Assignment.objects.filter(lead_id__in=lead_ids).values_list("lead_id", flat=True))
    assert set(per_lead) == set(lead_ids), "some leads were never routed"
    assert max(per_lead.values()) == 1, "a lead was routed twice"
    statuses = Counter(Lead.objects.filter(id__in=lead_ids).values_list("status", flat=True))
    assert set(statuses) <= {"assigned", "unroutable"}, statuses
    current = Assignment.objects.filter(lead_id__in=lead_ids, ended_at__isnull=True)
    assert current.count() == len(lead_ids)
    mismatched = Lead.objects.filter(id__in=lead_ids, status="assigned").exclude(
        assignments__ended_at__isnull=True, assignments__rep_id=F("owner_id")
    )
    assert not mismatched.exists(), "a lead's owner differs from its current assignment"


def assert_no_rep_over_capacity_or_daily_cap():
    over = Rep.objects.annotate(open=Count("leads", filter=Q(leads__status="assigned"))).filter(open__gt=F("capacity"))
    assert not over.exists(), list(over.values_list("name", "open", "capacity"))
    for count in RepDailyCount.objects.select_related("rep"):
        made = Assignment.objects.filter(rep=count.rep, decided_by="engine").count()
        assert count.assigned == made, (count.rep.name, count.assigned, made)
        assert count.assigned <= count.rep.daily_cap, (count.rep.name, count.assigned)


def tight_setup():
    """Software leads fill a small team, everyone spills over to a capped team, then to a big one."""
    small = TeamFactory(name="Software (tight capacity)")
    capped = TeamFactory(name="General (tight daily cap)")
    overflow = TeamFactory(name="Overflow")
    for i in range(4):
        RepFactory(team=small, name=f"Small {i}", capacity=150, daily_cap=10_000)
    for i in range(5):
        RepFactory(team=capped, name=f"Capped {i}", capacity=10_000, daily_cap=100)
    overflow_reps = [
        RepFactory(team=overflow, name=f"Overflow {i}", capacity=10_000, daily_cap=10_000) for i in range(4)
    ]
    software = RuleFactory(name="Software", priority=10, pool_team=small)
    RuleConditionFactory(rule=software, field="industry", op="equals", value="software")
    RuleFactory(name="General", priority=20, pool_team=capped, strategy="weighted")
    RuleFactory(name="Overflow", priority=30, pool_team=overflow)
    return overflow_reps


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_four_processes_routing_the_same_leads_never_break_capacity_caps_or_fairness():
    overflow_reps = tight_setup()
    lead_ids = bulk_leads(2400, industry="software")
    Lead.objects.filter(id__in=lead_ids[1::2]).update(industry="retail")
    chunks = [lead_ids[i : i + 100] for i in range(0, len(lead_ids), 100)]
    procs = []
    for seed in range(4):  # every process tries every lead, in its own order
        order = chunks[:]
        random.Random(seed).shuffle(order)
        procs.append(
            subprocess.Popen(
                [sys.executable, "-c", ROUTE_CHUNKS, json.dumps(order)],
                cwd=ROOT,
                env=subprocess_env(),
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
    outputs = [p.communicate(timeout=600) for p in procs]
    for p, (_, err) in zip(procs, outputs, strict=False):
        assert p.returncode == 0, err[-3000:]
        assert "deadlock" not in err.lower()
    assert_every_lead_decided_once(lead_ids)
    assert_no_rep_over_capacity_or_daily_cap()
    # The tight pools really filled up, so the limits were tested, not just respected.
    assert Lead.objects.filter(owner__team__name="Software (tight capacity)").count() == 600
    assert Assignment.objects.filter(rule__name="General").count() == 500
    overflow = Counter(Lead.objects.filter(owner__in=overflow_reps).values_list("owner_id", flat=True))
    assert sum(overflow.values()) == 2400 - 600 - 500
    assert max(overflow.values()) - min(overflow.values()) <= 1, overflow


def start_worker(**env) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "manage.py", "rqworker", "routing", "--worker-class", "rq.Worker"],
        cwd=ROOT,
        env=subprocess_env(**env),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )  # its own process group: we can kill it and its work horse


def empty_routing_queue():
    import django_rq

    queue = django_rq.get_queue("routing")
    queue.empty()
    return queue


def wait_until(condition, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_routes_leads_enqueued_on_commit():
    empty_routing_queue()
    team = TeamFactory()
    reps = [RepFactory(team=team, capacity=500, daily_cap=500) for _ in range(3)]
    RuleFactory(pool_team=team)
    with transaction.atomic():
        lead_ids = bulk_leads(30)
        leads_enqueue_routing(lead_ids)
    worker = subprocess.run(
        [sys.executable, "manage.py", "rqworker", "routing", "--burst"],
        cwd=ROOT,
        env=subprocess_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert worker.returncode == 0, worker.stderr[-3000:]
    owners = Counter(Lead.objects.filter(id__in=lead_ids).values_list("owner_id", flat=True))
    assert owners == {r.id: 10 for r in reps}


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_batch_loses_no_lead_and_routes_none_twice():
    empty_routing_queue()
    team = TeamFactory()
    for _ in range(4):
        RepFactory(team=team, capacity=10_000, daily_cap=10_000)
    RuleFactory(pool_team=team)
    with transaction.atomic():
        lead_ids = bulk_leads(3000)
        leads_enqueue_routing(lead_ids)  # one job per 500 leads
    # Small transactions inside each job, so the kill lands between and inside them.
    worker = start_worker(ROUTING_BATCH_SIZE="50")
    try:
        started = wait_until(lambda: Lead.objects.filter(id__in=lead_ids, status="assigned").count() >= 100)
        assert started, "the worker never started routing"
    finally:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=30)
    routed_before = Lead.objects.filter(id__in=lead_ids).exclude(status="pending").count()
    assert 0 < routed_before < len(lead_ids), "the kill did not land mid-way"
    empty_routing_queue()
    call_command("route_pending", "--all", stdout=open(os.devnull, "w"))
    assert_every_lead_decided_once(lead_ids)
    assert_no_rep_over_capacity_or_daily_cap()


@pytest.mark.postgres
@pytest.mark.django_db
def test_a_second_sweep_does_nothing_while_one_is_running():
    import psycopg

    from routing.services import leads_route_pending
    from routing.services.locks import SWEEP_LOCK

    db = connection.settings_dict
    other = psycopg.connect(
        host=db["HOST"] or "127.0.0.1", port=db["PORT"] or 5432, user=db["USER"], dbname=db["NAME"], autocommit=True
    )
    try:
        other.execute("SELECT pg_advisory_lock(%s)", [SWEEP_LOCK])  # a sweep in another process
        assert leads_route_pending(everything=True).ran is False
        other.execute("SELECT pg_advisory_unlock(%s)", [SWEEP_LOCK])
        assert leads_route_pending(everything=True).ran is True
    finally:
        other.close()
