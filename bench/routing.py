"""Routing benchmark: prints a table, asserts nothing (speed lives here, not in tests).

    .venv/bin/python bench/routing.py                  # (a) pure core only
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/leadops_bench \
        .venv/bin/python bench/routing.py --end-to-end # (a), (b) and (c)

(a) decisions per second of the pure core: 200 reps, 100 rules, 100,000 leads, one core,
    reason traces rendered (the writer needs them, so they count).
(b) end-to-end on Postgres: 100,000 pending leads routed by `leads_route` in batches, with
    Assignment rows, beside the time Postgres takes to COPY the same number of assignment
    rows (the floor), as a ratio.
(c) peak memory (tracemalloc) of routing a batch, measured after 1 and after all batches:
    it must not grow with the number of leads routed.
"""
from __future__ import annotations

import argparse
import os
import random
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from routing.engine import (  # noqa: E402  (path set above)
    Condition, LeadFacts, RepState, RoutingEngine, RoutingSnapshot, RuleSetSettings, RuleSpec,
    TerritorySpec, WorkingHours,
)

COUNTRIES = ["DE", "AT", "CH", "FR", "GB", "ES", "IT", "NL", "US", "CA", "BR", "JP"]
INDUSTRIES = ["software", "airline", "logistics", "manufacturing", "healthcare", "retail",
              "financial services", "education", "energy", "media"]
STRATEGIES = ["round_robin", "weighted", "load_balanced", "skill_score", "performance", "direct",
              "round_robin", "round_robin"]


def core_setup(n_reps=200, n_rules=100, seed=7):
    rnd = random.Random(seed)
    now = datetime(2026, 11, 23, 14, 0, tzinfo=timezone.utc)
    territories = [TerritorySpec(1, "World")]
    tid = 2
    for c in COUNTRIES:
        territories.append(TerritorySpec(tid, c, parent_id=1, countries=frozenset({c})))
        tid += 1
    reps = {}
    for i in range(1, n_reps + 1):
        reps[i] = RepState(
            id=i, team_id=1 + i % 20, territory_ids=frozenset({2 + i % len(COUNTRIES)}),
            capacity=10_000, open_leads=rnd.randint(0, 50), daily_cap=10_000,
            weight=rnd.choice([0.5, 1.0, 1.0, 2.0]), timezone="Europe/Berlin",
            working_hours=WorkingHours(datetime.min.time().replace(hour=8),
                                       datetime.min.time().replace(hour=20)),
            skills={s: rnd.randint(1, 5) for s in rnd.sample(range(1, 11), 3)},
            last_assigned_at=now - timedelta(minutes=rnd.randint(1, 5000)),
            conversion_rate=rnd.random() * 0.4,
            time_off=((now - timedelta(days=1), now + timedelta(days=1)),) if i % 37 == 0 else (),
        )
    rules = []
    for r in range(1, n_rules + 1):
        conditions = [Condition("industry", "equals", INDUSTRIES[r % len(INDUSTRIES)])]
        if r % 3 == 0:
            conditions.append(Condition("score", "gte", 30 + r % 50))
        if r % 4 == 0:
            conditions.append(Condition("country", "in_territory", COUNTRIES[r % len(COUNTRIES)]))
        if r % 5 == 0:
            conditions = [Condition("country", "in", rnd.sample(COUNTRIES, 3)),
                          Condition("company_size", "between", [50, 5000])]
        strategy = STRATEGIES[r % len(STRATEGIES)]
        rules.append(RuleSpec(
            id=r, name=f"Rule {r}", priority=r * 10, conditions=conditions,
            team_id=1 + r % 20 if strategy != "direct" else None,
            rep_ids=rnd.sample(range(1, n_reps + 1), 3) if strategy == "direct" else [],
            territory_id="matched" if r % 7 == 0 else None,
            required_skill_ids=frozenset({1 + r % 10}) if strategy == "skill_score" else frozenset(),
            strategy=strategy, requires_working_hours=r % 6 == 0,
        ))
    # Catch-all at the end so every lead is decided by something.
    rules.append(RuleSpec(id=n_rules + 1, name="Fallback", priority=100_000, team_id=1))
    snapshot = RoutingSnapshot(now=now, rules=rules, territories=territories, reps=reps,
                               settings=RuleSetSettings(existing_owner_first=True),
                               account_owners={f"account{i}.example": 1 + i % n_reps for i in range(500)})
    return snapshot


def core_leads(n, seed=11):
    rnd = random.Random(seed)
    industries = INDUSTRIES + ["agriculture", "government"]
    out = []
    for i in range(1, n + 1):
        domain = f"account{rnd.randint(0, 20000)}.example"
        out.append(LeadFacts(
            id=i, email=f"lead{i}@{domain}", email_domain=domain, company=f"Company {i}",
            industry=rnd.choice(industries), company_size=rnd.choice([10, 80, 400, 2000, 9000]),
            country=rnd.choice(COUNTRIES), region="", postal_code=f"{rnd.randint(10000, 99999)}",
            score=rnd.randint(0, 100), source="web_form",
        ))
    return out


def part_a(n_leads=100_000):
    snapshot = core_setup()
    leads = core_leads(n_leads)
    started = time.perf_counter()
    engine = RoutingEngine(snapshot)
    compiled = time.perf_counter()
    decisions = [engine.decide(lead) for lead in leads]
    decided = time.perf_counter()
    reasons = [d.reason for d in decisions]
    rendered = time.perf_counter()
    outcomes = {}
    for d in decisions:
        outcomes[d.outcome] = outcomes.get(d.outcome, 0) + 1
    assert len(reasons) == n_leads
    total = rendered - started
    return [
        ("(a) core: reps / rules / leads", f"{len(snapshot.reps)} / {len(snapshot.rules)} / {n_leads:,}"),
        ("(a) compile rule set", f"{(compiled - started) * 1000:.1f} ms"),
        ("(a) decide only", f"{n_leads / (decided - compiled):,.0f} decisions/s"),
        ("(a) decide + render reason traces", f"{n_leads / total:,.0f} decisions/s  (target >= 20,000)"),
        ("(a) outcomes", ", ".join(f"{k} {v:,}" for k, v in sorted(outcomes.items()))),
    ]


def print_table(rows):
    width = max(len(k) for k, _ in rows)
    for k, v in rows:
        print(f"{k.ljust(width)}  {v}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=100_000)
    parser.add_argument("--end-to-end", action="store_true",
                        help="also (b) and (c): needs DATABASE_URL=postgres://… (a scratch database)")
    parser.add_argument("--profile", action="store_true", help="cProfile part (a)")
    args = parser.parse_args()
    if args.profile:
        import cProfile
        import pstats
        cProfile.runctx("part_a(args.leads)", globals(), {"args": args, "part_a": part_a}, "/tmp/routing.prof")
        pstats.Stats("/tmp/routing.prof").sort_stats("tottime").print_stats(15)
        return
    rows = part_a(args.leads)
    if args.end_to_end:
        raise SystemExit("end-to-end parts (b) and (c) are not written yet")
    print_table(rows)


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leadops.settings")
    main()
