"""Twenty reps claiming from one pool at once, in real processes on Postgres.

Each process is one rep making 50 claims as fast as it can: every other one a cherry-pick of a
random lead (many already taken), the rest "Next lead". The engine's locked path must hand
each lead out once and never let a rep past the claim limit or their capacity.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections import Counter

import pytest
from django.db.models import Count

from leadops.models import Lead
from reps.tests.factories import RepFactory, TeamFactory
from routing.models import Assignment
from routing.services import leads_route
from routing.tests.factories import RuleFactory
from routing.tests.test_routing_concurrency import ROOT, bulk_leads, subprocess_env

REPS, CLAIMS_EACH, LEADS, CLAIM_LIMIT, SMALL_CAPACITY = 20, 50, 100, 6, 3

CLAIMER = """
import json, os, random, sys, time
import django
django.setup()
from leadops.errors import RoutingConflict, RoutingError
from routing.services import lead_claim, lead_claim_next
rep_id, lead_ids, start_flag, n = int(sys.argv[1]), json.loads(sys.argv[2]), sys.argv[3], int(sys.argv[4])
rng = random.Random(rep_id)
said = {"won": 0, "taken": 0, "refused": 0, "none_left": 0}
while not os.path.exists(start_flag):  # everyone starts together, after Django is up
    time.sleep(0.01)
for i in range(n):
    try:
        if i % 2:
            said["won" if lead_claim_next(rep_id=rep_id) else "none_left"] += 1
        else:
            lead_claim(lead_id=rng.choice(lead_ids), rep_id=rep_id)
            said["won"] += 1
    except RoutingConflict:
        said["taken"] += 1
    except RoutingError:
        said["refused"] += 1
print(json.dumps(said))
"""


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_twenty_reps_claiming_at_once_get_each_lead_once_within_claim_limit_and_capacity(tmp_path):
    team = TeamFactory(name="Inbound SDR")
    reps = [
        RepFactory(team=team, name=f"Rep {i:02d}", capacity=SMALL_CAPACITY if i < 4 else 40, daily_cap=1)
        for i in range(REPS)
    ]
    RuleFactory(name="Shared pool", pool_team=team, strategy="pool", claim_limit=CLAIM_LIMIT)
    lead_ids = bulk_leads(LEADS, industry="software")
    assert leads_route(lead_ids=lead_ids).pooled == LEADS

    flag = tmp_path / "go"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", CLAIMER, str(rep.id), json.dumps(lead_ids), str(flag), str(CLAIMS_EACH)],
            cwd=ROOT,
            env=subprocess_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for rep in reps
    ]
    time.sleep(3)
    flag.touch()
    outputs = [p.communicate(timeout=900) for p in procs]
    said = Counter()
    for p, (out, err) in zip(procs, outputs, strict=True):
        assert p.returncode == 0, err[-3000:]
        said.update(json.loads(out.strip().splitlines()[-1]))

    # Every lead claimed exactly once, and it is the claimer's.
    claims = Assignment.objects.filter(lead_id__in=lead_ids, strategy="pool_claim", ended_at__isnull=True)
    per_lead = Counter(claims.values_list("lead_id", flat=True))
    assert set(per_lead) == set(lead_ids) and set(per_lead.values()) == {1}
    assert Assignment.objects.filter(lead_id__in=lead_ids, strategy="pool_claim").count() == LEADS
    assert said["won"] == LEADS
    owners = dict(claims.values_list("lead_id", "rep_id"))
    assert dict(Lead.objects.filter(id__in=lead_ids).values_list("id", "owner_id")) == owners
    assert set(Lead.objects.filter(id__in=lead_ids).values_list("status", flat=True)) == {"assigned"}

    # Nobody past the claim limit or their capacity; the small reps filled up, so the limits were hit.
    held = dict(Lead.objects.open().values_list("owner_id").annotate(n=Count("id")).order_by())
    for rep in reps:
        assert held.get(rep.id, 0) <= min(CLAIM_LIMIT, rep.capacity), rep.name
    assert [held.get(rep.id, 0) for rep in reps[:4]] == [SMALL_CAPACITY] * 4
    assert said["taken"] > 0 and said["refused"] > 0  # the losers and the full reps were told
    print(f"claims: {dict(said)}")
