"""Routing benchmark: prints a table, asserts nothing (speed lives here, not in tests).

    .venv/bin/python bench/routing.py                  # (a) pure core only
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/leadops_bench \
        .venv/bin/python bench/routing.py --end-to-end # (a) to (d)

(a) decisions per second of the pure core: 200 reps, 100 rules, 100,000 leads, one core,
    reason traces rendered (the writer needs them, so they count).
(b) end-to-end on Postgres: 100,000 pending leads routed by route_pending (the path a backlog
    takes), with Assignment rows, beside the time Postgres takes to COPY the same number of
    assignment rows (the floor), as a ratio.
(c) peak Python memory (tracemalloc) of routing 1 batch, then 20 batches: it must not grow
    with the number of leads routed.
(d) routing's claim of one batch with 100,000 leads waiting among 1,000,000 closed ones (a big import
    on a database with history), with the partial index of waiting leads and without it (the baseline).
The machine's load average is printed too: on a shared machine every figure moves with it.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from routing.engine import (  # noqa: E402  (path set above)
    Condition,
    LeadFacts,
    RepState,
    RoutingEngine,
    RoutingSnapshot,
    RuleSetSettings,
    RuleSpec,
    TerritorySpec,
    WorkingHours,
)

COUNTRIES = ["DE", "AT", "CH", "FR", "GB", "ES", "IT", "NL", "US", "CA", "BR", "JP"]
INDUSTRIES = [
    "software",
    "airline",
    "logistics",
    "manufacturing",
    "healthcare",
    "retail",
    "financial services",
    "education",
    "energy",
    "media",
]
STRATEGIES = [
    "round_robin",
    "weighted",
    "load_balanced",
    "skill_score",
    "performance",
    "direct",
    "round_robin",
    "round_robin",
]


def core_setup(n_reps=200, n_rules=100, seed=7):
    rnd = random.Random(seed)
    now = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)
    territories = [TerritorySpec(1, "World")]
    tid = 2
    for c in COUNTRIES:
        territories.append(TerritorySpec(tid, c, parent_id=1, countries=frozenset({c})))
        tid += 1
    reps = {}
    for i in range(1, n_reps + 1):
        reps[i] = RepState(
            id=i,
            team_id=1 + i % 20,
            territory_ids=frozenset({2 + i % len(COUNTRIES)}),
            capacity=10_000,
            open_leads=rnd.randint(0, 50),
            daily_cap=10_000,
            weight=rnd.choice([0.5, 1.0, 1.0, 2.0]),
            timezone="Europe/Berlin",
            working_hours=WorkingHours(datetime.min.time().replace(hour=8), datetime.min.time().replace(hour=20)),
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
            conditions = [
                Condition("country", "in", rnd.sample(COUNTRIES, 3)),
                Condition("company_size", "between", [50, 5000]),
            ]
        strategy = STRATEGIES[r % len(STRATEGIES)]
        rules.append(
            RuleSpec(
                id=r,
                name=f"Rule {r}",
                priority=r * 10,
                conditions=conditions,
                team_id=1 + r % 20 if strategy != "direct" else None,
                rep_ids=rnd.sample(range(1, n_reps + 1), 3) if strategy == "direct" else [],
                territory_id="matched" if r % 7 == 0 else None,
                required_skill_ids=frozenset({1 + r % 10}) if strategy == "skill_score" else frozenset(),
                strategy=strategy,
                requires_working_hours=r % 6 == 0,
            )
        )
    # Catch-all at the end so every lead is decided by something.
    rules.append(RuleSpec(id=n_rules + 1, name="Fallback", priority=100_000, team_id=1))
    snapshot = RoutingSnapshot(
        now=now,
        rules=rules,
        territories=territories,
        reps=reps,
        settings=RuleSetSettings(existing_owner_first=True),
        account_owners={f"account{i}.example": 1 + i % n_reps for i in range(500)},
    )
    return snapshot


def core_leads(n, seed=11):
    rnd = random.Random(seed)
    industries = INDUSTRIES + ["agriculture", "government"]
    out = []
    for i in range(1, n + 1):
        domain = f"account{rnd.randint(0, 20000)}.example"
        out.append(
            LeadFacts(
                id=i,
                email=f"lead{i}@{domain}",
                email_domain=domain,
                company=f"Company {i}",
                industry=rnd.choice(industries),
                company_size=rnd.choice([10, 80, 400, 2000, 9000]),
                country=rnd.choice(COUNTRIES),
                region="",
                postal_code=f"{rnd.randint(10000, 99999)}",
                score=rnd.randint(0, 100),
                source="web_form",
            )
        )
    return out


def part_a(n_leads=100_000):
    """Leads are decided one after another and dropped, as the writer does per batch
    (holding 100,000 decisions would only measure the garbage collector)."""
    leads = core_leads(n_leads)
    started = time.perf_counter()
    engine = RoutingEngine(core_setup())
    compiled = time.perf_counter()
    for lead in leads:
        engine.decide(lead)
    decided = time.perf_counter()
    engine = RoutingEngine(core_setup())
    outcomes: dict[str, int] = {}
    restarted = time.perf_counter()
    for lead in leads:
        decision = engine.decide(lead)
        _ = decision.reason  # rendering the trace is part of the timed work
        outcomes[decision.outcome] = outcomes.get(decision.outcome, 0) + 1
    rendered = time.perf_counter()
    return [
        ("(a) core: reps / rules / leads", f"{len(engine.reps)} / {len(engine.rules)} / {n_leads:,}"),
        ("(a) compile rule set", f"{(compiled - started) * 1000:.1f} ms"),
        ("(a) decide only", f"{n_leads / (decided - compiled):,.0f} decisions/s"),
        (
            "(a) decide + render reason traces",
            f"{n_leads / (rendered - restarted):,.0f} decisions/s  (target >= 20,000)",
        ),
        ("(a) outcomes", ", ".join(f"{k} {v:,}" for k, v in sorted(outcomes.items()))),
    ]


def _django_setup():
    # A worker runs with DEBUG off: with it on, Django keeps every query in memory.
    os.environ.setdefault("DEBUG", "0")
    os.environ.setdefault("SECRET_KEY", "bench-only-not-secret")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leadops.settings")
    # Jobs go to Redis, as in production, and are not worked here: without REDIS_URL every batch would also
    # send its assignment notifications inline (one e-mail per lead), which is the notification bench's part.
    os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/15")
    import django

    django.setup()
    from django.db import connection

    if connection.vendor != "postgresql":
        raise SystemExit("--end-to-end needs DATABASE_URL=postgres://… (it creates and drops test_<name>)")
    return connection


def _seed_database(snapshot, n_leads):
    """The core's 200 reps / 100 rules, and n pending leads, written through the ORM."""
    from django.utils import timezone

    from reps.models import Rep, RepSkill, SkillTag, Team, TimeOff
    from routing.models import Rule, RuleCondition, RulePoolRep, Territory

    now = timezone.now()
    Team.objects.bulk_create([Team(id=i, name=f"Team {i}") for i in range(1, 21)])
    SkillTag.objects.bulk_create([SkillTag(id=i, name=f"skill {i}") for i in range(1, 11)])
    for t in snapshot.territories:  # parents first: the list is in that order
        Territory.objects.create(id=t.id, name=t.name, parent_id=t.parent_id, countries=sorted(t.countries))
    reps = []
    for r in snapshot.reps.values():
        hours = r.working_hours
        reps.append(
            Rep(
                id=r.id,
                name=f"Rep {r.id}",
                email=f"rep{r.id}@bench.example",
                team_id=r.team_id,
                capacity=r.capacity,
                daily_cap=r.daily_cap,
                weight=r.weight,
                timezone=r.timezone,
                working_hours={
                    "start": hours.start.strftime("%H:%M"),
                    "end": hours.end.strftime("%H:%M"),
                    "days": sorted(hours.days),
                }
                if hours
                else {},
            )
        )
    Rep.objects.bulk_create(reps)
    Rep.territories.through.objects.bulk_create(
        [Rep.territories.through(rep_id=r.id, territory_id=t) for r in snapshot.reps.values() for t in r.territory_ids]
    )
    RepSkill.objects.bulk_create(
        [RepSkill(rep_id=r.id, skill_id=s, proficiency=p) for r in snapshot.reps.values() for s, p in r.skills.items()]
    )
    TimeOff.objects.bulk_create(
        [
            TimeOff(rep_id=r.id, start=now - timedelta(days=1), end=now + timedelta(days=1))
            for r in snapshot.reps.values()
            if r.time_off
        ]
    )
    for spec in snapshot.rules:
        rule = Rule.objects.create(
            id=spec.id,
            name=spec.name,
            priority=spec.priority,
            strategy=spec.strategy,
            pool_team_id=spec.team_id,
            pool_matched_territory=spec.territory_id == "matched",
            requires_working_hours=spec.requires_working_hours,
        )
        rule.required_skills.set(spec.required_skill_ids)
        RuleCondition.objects.bulk_create(
            [
                RuleCondition(rule=rule, field=c.field, op=c.op, value=c.value, position=i)
                for i, c in enumerate(spec.conditions)
            ]
        )
        RulePoolRep.objects.bulk_create(
            [RulePoolRep(rule=rule, rep_id=rid, position=i) for i, rid in enumerate(spec.rep_ids)]
        )
    return _seed_leads(n_leads)


def _seed_leads(n_leads, seed=11):
    """n pending leads (bulk, unrouted); returns their ids."""
    from leadops.models import Lead

    fields = (
        "email",
        "email_domain",
        "company",
        "industry",
        "company_size",
        "country",
        "postal_code",
        "score",
        "source",
    )
    facts = core_leads(n_leads, seed=seed)
    first = (Lead.objects.order_by("-id").values_list("id", flat=True).first() or 0) + 1
    for start in range(0, n_leads, 5000):
        Lead.objects.bulk_create(
            [
                Lead(external_id=f"bench-{seed}-{f.id}", **{k: getattr(f, k) for k in fields})
                for f in facts[start : start + 5000]
            ]
        )
    return list(Lead.objects.filter(id__gte=first).order_by("id").values_list("id", flat=True))


def _copy_floor(connection, n_rows):
    """Seconds Postgres takes to COPY n assignment rows like the ones routing wrote (same
    columns, same reason JSON, same indexes) into a scratch table."""
    from routing.models import Assignment

    table = Assignment._meta.db_table
    columns = [
        "lead_id",
        "outcome",
        "rep_id",
        "rule_id",
        "rule_name",
        "strategy",
        "decided_by",
        "rule_set_version",
        "reason",
        "created_at",
        "end_reason",
        "first_decision",
        "lead_created_at",
    ]
    rows = list(Assignment.objects.order_by("id").values_list(*columns)[:n_rows])
    import json

    lines = [tuple(json.dumps(v) if isinstance(v, dict) else v for v in row) for row in rows]
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TEMP TABLE assignment_copy (LIKE {table} INCLUDING ALL)")
        started = time.perf_counter()
        with cursor.cursor.copy(f"COPY assignment_copy ({', '.join(columns)}) FROM STDIN") as copy:
            for line in lines:
                copy.write_row(line)
        elapsed = time.perf_counter() - started
        cursor.execute("DROP TABLE assignment_copy")
    return elapsed


def end_to_end(n_leads):
    import tracemalloc

    connection = _django_setup()
    from leadops.models import Lead
    from routing.services import leads_route, leads_route_pending
    from routing.services.sweep import SWEEP_BATCH_SIZE

    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    try:
        seeded = time.perf_counter()
        main = _seed_database(core_setup(), n_leads)
        seed_s = time.perf_counter() - seeded
        # (b) A backlog of pending leads is what route_pending routes: time exactly that.
        started = time.perf_counter()
        sweep = leads_route_pending(everything=True)
        routed_s = time.perf_counter() - started
        copy_s = _copy_floor(connection, n_leads)
        assigned = Lead.objects.filter(id__in=main, status="assigned").count()
        # (c) peak Python memory of routing 1 batch, then 20 batches: equal when bounded.
        batch = SWEEP_BATCH_SIZE
        spare = _seed_leads(21 * batch, seed=12)
        tracemalloc.start()
        leads_route(lead_ids=spare[:batch], batch_size=batch)
        one_batch_peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.reset_peak()
        leads_route(lead_ids=spare[batch:], batch_size=batch)
        many_batches_peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        # (d) routing's claim of a batch with a big backlog among many closed leads, with and without the index
        # of waiting leads (leadops 0010).
        claim_with, claim_without, backlog, closed = _claim_times(connection, batch)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
        import django_rq
        from django.conf import settings

        for name in settings.RQ_QUEUES:  # the jobs the run enqueued: nobody will work them
            django_rq.get_queue(name).empty()
    return [
        (
            "(b) end-to-end: route_pending on Postgres",
            f"{n_leads:,} pending leads in {routed_s:.1f} s, batches of {batch}",
        ),
        ("(b) outcome", f"{sweep.routed.summary()}; {assigned:,} assigned in the database"),
        ("(b) leads per second", f"{n_leads / routed_s:,.0f}  (target >= 3,000)"),
        ("(b) COPY floor, same assignment rows", f"{copy_s:.2f} s = {n_leads / copy_s:,.0f} rows/s"),
        ("(b) routing time / COPY floor", f"{routed_s / copy_s:.1f}x  (target <= 10x)"),
        ("(c) peak Python memory, 1 batch", f"{one_batch_peak / 2**20:.1f} MiB ({batch:,} leads)"),
        ("(c) peak Python memory, 20 batches", f"{many_batches_peak / 2**20:.1f} MiB ({batch * 20:,} leads)"),
        (
            "(d) claim of one batch, index of waiting leads",
            f"{claim_with * 1000:.1f} ms ({backlog:,} waiting among {closed:,} closed leads)",
        ),
        (
            "(d) the same without that index",
            f"{claim_without * 1000:.1f} ms = {claim_without / claim_with:.0f}x (the plan before leadops 0010)",
        ),
        ("    (seeding, not timed above)", f"{seed_s:.0f} s"),
    ]


def _claim_times(connection, batch, backlog=100_000, closed=1_000_000) -> tuple[float, float, int, int]:
    """The claim's median time (of 5) with `backlog` leads waiting among `closed` lost ones: with the waiting
    leads' partial index, then with it dropped inside a transaction that is rolled back."""
    from django.db import transaction

    from leadops.models import Lead
    from routing.services.route import _claim

    def lead_rows(status: str, n: int) -> None:
        cursor.execute(
            "INSERT INTO leadops_lead (source, external_id, email, email_domain, first_name, last_name, phone,"
            " company, industry, country, region, city, postal_code, product_interest, language, extra, status,"
            " routing_error, created_at, updated_at) SELECT 'claim-bench', %s || g, 'c' || g || '@claim.example',"
            " 'claim.example', '', '', '', '', '', '', '', '', '', '', '', '{}', %s, '', now(), now()"
            " FROM generate_series(1, %s) g",
            [status, status, n],
        )

    def median_claim() -> float:
        times = []
        for _ in range(5):
            with transaction.atomic():
                started = time.perf_counter()
                _claim([], ("pending",), batch)
                times.append(time.perf_counter() - started)
        return sorted(times)[2]

    Lead.objects.filter(status="pending").update(status="lost")  # what (c) left waiting
    with connection.cursor() as cursor:
        lead_rows("lost", closed)
        lead_rows("pending", backlog)
        # As autovacuum leaves tables that take no new rows (the assignments were written by (b) and (c)).
        cursor.execute("VACUUM (ANALYZE) leadops_lead, routing_assignment")
    with_index = median_claim()
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("DROP INDEX lead_waiting_idx")
        without_index = median_claim()
        transaction.set_rollback(True)
    return with_index, without_index, backlog, closed


def print_table(rows):
    width = max(len(k) for k, _ in rows)
    for k, v in rows:
        print(f"{k.ljust(width)}  {v}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=100_000)
    parser.add_argument(
        "--end-to-end",
        action="store_true",
        help="also (b) and (c): needs DATABASE_URL=postgres://… (a scratch database)",
    )
    parser.add_argument("--profile", action="store_true", help="cProfile part (a)")
    args = parser.parse_args()
    if args.profile:
        import cProfile
        import pstats

        cProfile.runctx("part_a(args.leads)", globals(), {"args": args, "part_a": part_a}, "/tmp/routing.prof")
        pstats.Stats("/tmp/routing.prof").sort_stats("tottime").print_stats(15)
        return
    rows = [("machine load average (1/5/15 min)", " / ".join(f"{x:.1f}" for x in os.getloadavg()))]
    rows += part_a(args.leads)
    if args.end_to_end:
        rows += end_to_end(args.leads)
    print_table(rows)


if __name__ == "__main__":
    main()
