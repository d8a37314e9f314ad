"""Simulation and routing-version benchmark: prints a table, asserts nothing.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/leadops_bench .venv/bin/python bench/simulate.py

(a) simulate_routing over 30 days of 100,000 leads with 500 reps and 100 rules (time off and
    working hours in play): seconds spent loading (set-up, the state at the start) and deciding
    (the engine, the leads and their first decisions streamed as it goes), and the process's peak
    memory during the simulation (VmHWM, reset before it starts). Targets: <= 15 s, <= 500 MB.
(b) a routing version captured on an admin-like save (one rep's capacity) with 500 reps and
    100 rules: the save alone, and the save with the version (dump, compare, store).
    Target: <= 100 ms added.
It creates and drops test_<name> in the given Postgres. The "actual" first decisions it seeds
are random (the point is the replay's speed, not the comparison's figures).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

COUNTRIES = ["DE", "AT", "CH", "FR", "GB", "ES", "IT", "NL", "US", "CA", "BR", "JP"]
INDUSTRIES = ["software", "airline", "logistics", "manufacturing", "healthcare", "retail", "energy", "media"]
STRATEGIES = ["round_robin", "weighted", "load_balanced", "skill_score", "direct", "round_robin"]
ZONES = ["Europe/Berlin", "Europe/London", "America/New_York", "America/Los_Angeles", "Asia/Tokyo"]
START = dt.datetime(2026, 10, 1, tzinfo=dt.UTC)


def _hwm_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM"):
                return int(line.split()[1]) / 1024
    return 0.0


def _reset_hwm() -> None:
    with open("/proc/self/clear_refs", "w") as refs:
        refs.write("5")


def document(n_reps=500, n_rules=100, seed=7) -> dict:
    rnd = random.Random(seed)
    skills = [f"skill{i}" for i in range(10)]
    teams = [f"Team {i}" for i in range(20)]
    territories = [{"name": "World"}] + [{"name": c, "parent": "World", "countries": [c]} for c in COUNTRIES]
    reps = []
    for i in range(n_reps):
        off = START + dt.timedelta(days=rnd.randrange(30), hours=rnd.randrange(24))
        reps.append(
            {
                "email": f"rep{i:04d}@bench.example",
                "name": f"Rep {i}",
                "team": teams[i % 20],
                "territories": [COUNTRIES[i % len(COUNTRIES)]],
                "skills": {s: rnd.randint(1, 5) for s in rnd.sample(skills, 3)},
                "capacity": rnd.choice([200, 400, 800]),
                "daily_cap": rnd.choice([40, 80, 200]),
                "weight": rnd.choice([0.5, 1.0, 2.0]),
                "timezone": ZONES[i % len(ZONES)],
                "working_hours": {"start": "08:00", "end": "18:00", "days": [1, 2, 3, 4, 5]},
                "time_off": (
                    [
                        {
                            "start": off.isoformat().replace("+00:00", "Z"),
                            "end": (off + dt.timedelta(days=2)).isoformat().replace("+00:00", "Z"),
                        }
                    ]
                    if i % 9 == 0
                    else []
                ),
            }
        )
    rules = []
    for r in range(n_rules):
        strategy = STRATEGIES[r % len(STRATEGIES)]
        conditions = [{"field": "industry", "op": "equals", "value": INDUSTRIES[r % len(INDUSTRIES)]}]
        if r % 3 == 0:
            conditions.append({"field": "score", "op": "gte", "value": 20 + r % 50})
        if r % 4 == 0:
            conditions.append({"field": "country", "op": "in_territory", "value": COUNTRIES[r % len(COUNTRIES)]})
        rules.append(
            {
                "name": f"Rule {r:03d}",
                "priority": (r + 1) * 10,
                "conditions": conditions,
                "pool": {
                    "team": teams[r % 20] if strategy != "direct" else None,
                    "reps": [reps[(r * 7 + k) % n_reps]["email"] for k in range(3)] if strategy == "direct" else [],
                    "territory": "matched" if r % 7 == 0 else None,
                },
                "required_skills": [skills[r % 10]] if strategy == "skill_score" else [],
                "strategy": strategy,
                "requires_working_hours": r % 6 == 0,
            }
        )
    rules.append({"name": "Fallback", "priority": 100_000, "pool": {"team": teams[0], "reps": [], "territory": None}})
    return {
        "skills": skills,
        "teams": [{"name": t} for t in teams],
        "territories": territories,
        "reps": reps,
        "rules": rules,
    }


def seed_leads(n_leads: int, seed=11) -> None:
    from leadops.models import Lead
    from reps.models import Rep
    from routing.models import Assignment

    rnd = random.Random(seed)
    rep_ids = list(Rep.objects.values_list("id", flat=True))
    step = dt.timedelta(days=30) / n_leads
    for chunk in range(0, n_leads, 10_000):
        leads = Lead.objects.bulk_create(
            [
                Lead(
                    source="web_form",
                    external_id=f"bench-{i}",
                    email=f"lead{i}@account{rnd.randrange(20000)}.example",
                    company=f"Company {i}",
                    industry=rnd.choice(INDUSTRIES),
                    country=rnd.choice(COUNTRIES),
                    score=rnd.randrange(101),
                    status="assigned",
                    owner_id=rnd.choice(rep_ids),
                    created_at=START + step * i,
                    assigned_at=START + step * i,
                )
                for i in range(chunk, min(chunk + 10_000, n_leads))
            ],
            batch_size=2000,
        )
        Assignment.objects.bulk_create(
            [
                Assignment(
                    lead=lead,
                    rep_id=lead.owner_id,
                    rule_name="Fallback",
                    created_at=lead.created_at,
                    lead_created_at=lead.created_at,
                )
                for lead in leads
            ],
            batch_size=2000,
        )


def part_a(n_leads: int) -> list[tuple[str, str]]:
    from routing.simulation import routing_simulate

    seeded = time.perf_counter()
    seed_leads(n_leads)
    seed_s = time.perf_counter() - seeded
    _reset_hwm()
    before = _hwm_mb()
    started = time.perf_counter()
    simulation = routing_simulate(start=START.date(), end=(START + dt.timedelta(days=29)).date())
    total = time.perf_counter() - started
    peak = _hwm_mb()
    t, r = simulation.timings, simulation.result
    return [
        ("(a) simulate: reps / rules / leads", f"500 / 101 / {r['leads']:,} over 30 days"),
        ("(a) total", f"{total:.1f} s  (target <= 15 s)"),
        ("(a) loading (set-up, state at start)", f"{t.loading:.1f} s"),
        (
            "(a) deciding (engine, each lead compared as it goes)",
            f"{t.deciding:.1f} s = {r['leads'] / t.deciding:,.0f} leads/s",
        ),
        ("(a) comparing (the totals put together)", f"{t.comparing:.1f} s"),
        ("(a) peak memory (VmHWM) during it", f"{peak:.0f} MB (process before: {before:.0f} MB; target <= 500 MB)"),
        ("(a) outcome", f"changed owner {r['changed_owner']:,}; unroutable {r['unroutable']['simulated']:,}"),
        ("    (seeding, not timed above)", f"{seed_s:.0f} s"),
    ]


def part_b(runs: int = 10) -> list[tuple[str, str]]:
    from django.db import transaction

    from reps.models import Rep
    from routing.models import RoutingVersion
    from routing.services.rule_set import routing_change

    rep = Rep.objects.order_by("id").first()
    plain, captured = [], []
    for n in range(runs):
        started = time.perf_counter()
        with transaction.atomic():
            Rep.objects.filter(pk=rep.pk).update(capacity=1000 + 2 * n)
        plain.append(time.perf_counter() - started)
        started = time.perf_counter()
        with routing_change(who="bench"):
            Rep.objects.filter(pk=rep.pk).update(capacity=1001 + 2 * n)
        captured.append(time.perf_counter() - started)
    plain.sort()
    captured.sort()
    mid = runs // 2
    last = RoutingVersion.objects.first()
    sizes = sorted(len(v) for v in RoutingVersion.objects.values_list("payload", flat=True))
    return [
        ("(b) save alone (median)", f"{plain[mid] * 1000:.1f} ms"),
        ("(b) save + routing version (median)", f"{captured[mid] * 1000:.1f} ms"),
        ("(b) added by the version", f"{(captured[mid] - plain[mid]) * 1000:.1f} ms  (target <= 100 ms)"),
        ("(b) stored per version", f"smallest {sizes[0]:,} B, largest {sizes[-1]:,} B (whole document, zlib)"),
        ("(b) last version's changes", "; ".join(last.changes)),
    ]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=100_000)
    args = parser.parse_args()
    os.environ.setdefault("DEBUG", "0")
    os.environ.setdefault("SECRET_KEY", "bench-only-not-secret")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leadops.settings")
    import django

    django.setup()
    from django.db import connection

    from routing.routing_file import routing_config_load

    if connection.vendor != "postgresql":
        raise SystemExit("needs DATABASE_URL=postgres://… (it creates and drops test_<name>)")
    rows = [("machine load average (1/5/15 min)", " / ".join(f"{x:.1f}" for x in os.getloadavg()))]
    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    try:
        routing_config_load(document())
        rows += part_b()
        rows += part_a(args.leads)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
    rows.append(("machine load average after", " / ".join(f"{x:.1f}" for x in os.getloadavg())))
    width = max(len(k) for k, _ in rows)
    for k, v in rows:
        print(f"{k.ljust(width)}  {v}")


if __name__ == "__main__":
    main()
