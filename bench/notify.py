"""Notifications and SLA benchmark: prints figures and ratios measured in the same run, asserts nothing.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/leadops_notify_bench REDIS_URL=redis://127.0.0.1:6379/13 \
        .venv/bin/python bench/notify.py [--only a,b,c,d] [--leads 100000] [--deliveries 5000]

(a) route_pending on N pending leads (bench/routing.py's 200 reps and 100 rules) with two webhook
    channels and every rep's e-mail on, against the same with notifications off (no channel, e-mail
    off): runs off, on, off on fresh leads (open leads and daily counts reset between runs), and
    the ratio on ÷ mean(off). The dispatch jobs go to Redis; no worker sends them during (a).
(b) deliveries sent by one worker process (the dispatch job run in this process) to a local
    receiver (a threaded http.server in its own process answering 200): deliveries per second.
(c) one watch_sla pass over 1,000,000 assignments of which 10,000 are due (half contacted in
    time, half breached, two webhook channels: the breach rows and their outbox rows are written).
(d) POST /api/leads/?wait=2 at 20 leads/s for 20 s to gunicorn (2 workers × 8 threads), one
    `rqworker routing`: time from the POST to the answer, and whether it carried the owner; p50, p99.

(a)–(c) run in a scratch database (test_<name>, created and dropped); (d) uses the database it is
given (migrates it). The machine's load average is printed next to every figure: on a shared
machine every figure moves with it.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PY = sys.executable

RECEIVER = r"""
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a): pass
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")  # one write: no Nagle stall
s = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H); s.daemon_threads = True; s.serve_forever()
"""


def _load(name: str):
    spec = importlib.util.spec_from_file_location(f"bench_{name}", ROOT / "bench" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def load() -> str:
    return "load average " + " ".join(Path("/proc/loadavg").read_text().split()[:3])


def say(label: str, figure: str) -> None:
    print(f"{label:<52} {figure}   [{load()}]", flush=True)


# ----------------------------------------------------------------------------- (a)
def _reset_reps() -> None:
    """Every rep back to no open leads and no assignments today, so each run routes the same way."""
    from leadops.models import Lead
    from routing.models import RepDailyCount

    Lead.objects.exclude(status="pending").update(status="converted")
    RepDailyCount.objects.all().delete()


def _notifications(on: bool, receiver_url: str) -> None:
    from notifications.models import Channel
    from reps.models import Rep

    Channel.objects.all().delete()
    Rep.objects.update(notify_email=on)
    if on:
        Channel.objects.create(name="CRM", url=f"{receiver_url}/crm", secret="whsec_bench")
        Channel.objects.create(name="Slack", url=f"{receiver_url}/slack", secret="whsec_bench", format="slack")


def _route_run(routing, n: int, seed: int) -> tuple[float, str]:
    import django_rq

    from routing.services import leads_route_pending

    _reset_reps()
    routing._seed_leads(n, seed=seed)
    started = time.perf_counter()
    result = leads_route_pending(everything=True)
    took = time.perf_counter() - started
    django_rq.get_queue("notifications").empty()  # no worker sends them in (a)
    return took, result.routed.summary()


def part_a(n: int) -> None:
    from notifications.models import Delivery

    routing = _load("routing")
    routing._seed_database(routing.core_setup(), 0)
    runs = []
    for label, on, seed in (("off", False, 101), ("on", True, 102), ("off", False, 103)):
        _notifications(on, "http://127.0.0.1:9")
        before = Delivery.objects.count()
        took, summary = _route_run(routing, n, seed)
        runs.append((label, took))
        say(
            f"(a) route_pending {n:,} leads, notifications {label}",
            f"{took:.1f} s = {n / took:,.0f} leads/s ({summary})",
        )
        if on:
            say("(a)   outbox rows written with them", f"{Delivery.objects.count() - before:,}")
    off = (runs[0][1] + runs[2][1]) / 2
    say("(a) on ÷ mean(off)", f"{runs[1][1] / off:.2f}x  (target <= 1.25x)")


# ----------------------------------------------------------------------------- (b)
def part_b(count: int) -> None:
    from django.utils import timezone

    from leadops.models import Lead
    from notifications.jobs import deliveries_dispatch_job
    from notifications.models import Channel, Delivery
    from notifications.services.outbox import Notice, notifications_add

    intake = _load("intake")
    port = intake.free_port()
    receiver = subprocess.Popen([PY, "-c", RECEIVER, str(port)])
    try:
        time.sleep(1)
        Channel.objects.all().delete()
        Channel.objects.create(name="Receiver", url=f"http://127.0.0.1:{port}/hook", secret="whsec_bench")
        Delivery.objects.all().delete()
        lead_ids = list(Lead.objects.order_by("id").values_list("id", flat=True)[:count])
        if len(lead_ids) < count:
            raise SystemExit("(b) needs the leads (a) made: run it with a")
        now = timezone.now()
        notifications_add(notices=[Notice(event="lead.pooled", lead_id=i, decided_at=now) for i in lead_ids], at=now)
        ids = [str(i) for i in Delivery.objects.values_list("id", flat=True)]
        started = time.perf_counter()
        deliveries_dispatch_job(ids, [])
        took = time.perf_counter() - started
        sent = Delivery.objects.filter(status="sent").count()
        say(
            f"(b) {len(ids):,} deliveries, one worker, local receiver",
            f"{sent:,} sent in {took:.2f} s = {sent / took:,.0f}/s  (target >= 300/s)",
        )
    finally:
        receiver.terminate()


# ----------------------------------------------------------------------------- (c)
def _insert_generated(model, count: int, overrides: dict) -> None:
    """INSERT … SELECT FROM generate_series: every NOT NULL column gets its model default."""
    from django.db import connection

    columns, values, params = [], [], []
    for f in model._meta.concrete_fields:
        if f.primary_key:
            continue
        columns.append(connection.ops.quote_name(f.column))
        if f.name in overrides:
            values.append(overrides[f.name])
        elif f.null:
            values.append("NULL")
        else:
            values.append("%s")
            params.append(f.get_db_prep_save(f.get_default(), connection))
    sql = (
        f"INSERT INTO {model._meta.db_table} ({', '.join(columns)}) "
        f"SELECT {', '.join(values)} FROM generate_series(1, {count}) AS g"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def part_c(total: int = 1_000_000, due: int = 10_000) -> None:
    from django.db import connection
    from django.utils import timezone

    from leadops.models import Lead, LeadEvent
    from notifications.models import Channel
    from reps.models import Rep
    from routing.models import Assignment, Rule
    from routing.services.sla import sla_watch

    if not Rep.objects.exists():
        routing = _load("routing")
        routing._seed_database(routing.core_setup(), 0)
    Channel.objects.all().delete()
    Channel.objects.create(name="CRM", url="http://127.0.0.1:9/crm", secret="whsec_bench")
    Channel.objects.create(name="Slack", url="http://127.0.0.1:9/slack", secret="whsec_bench", format="slack")
    Rep.objects.update(notify_email=True)
    rep_ids = list(Rep.objects.values_list("id", flat=True))
    rule = Rule.objects.order_by("id").first()
    seeded = time.perf_counter()
    first = (Lead.objects.order_by("-id").values_list("id", flat=True).first() or 0) + 1
    _insert_generated(
        Lead,
        total,
        {
            "external_id": "'sla-' || g",
            "email": "'sla' || g || '@bench.example'",
            "status": "'assigned'",
            "owner": f"(ARRAY{rep_ids})[1 + g %% {len(rep_ids)}]",
            "created_at": "now() - interval '2 hours'",
            "updated_at": "now()",
        },
    )
    t = Assignment._meta.db_table
    lead_t = Lead._meta.db_table
    with connection.cursor() as cursor:
        # 990,000 settled long ago (met), `due` current and overdue, the rest current and not yet due.
        cursor.execute(
            f"INSERT INTO {t} (lead_id, outcome, rep_id, rule_id, rule_name, strategy, decided_by, rule_set_version,"
            f" reason, created_at, end_reason, sla_due_at, sla_met_at) "
            f"SELECT l.id, 'assigned', l.owner_id, %s, %s, 'round_robin', 'engine', 1, '{{}}'::jsonb,"
            f" now() - interval '2 hours', '',"
            f" CASE WHEN l.id - %s < %s THEN now() - interval '90 minutes'"
            f"      WHEN l.id - %s < %s THEN now() + interval '20 minutes'"
            f"      ELSE now() - interval '100 minutes' END,"
            f" CASE WHEN l.id - %s < %s THEN NULL ELSE now() - interval '100 minutes' END"
            f" FROM {lead_t} l WHERE l.id >= %s",
            [rule.id, rule.name, first, due, first, 3 * due, first, 3 * due, first],
        )
        # Half of the due ones were contacted in time.
        cursor.execute(
            f"INSERT INTO {LeadEvent._meta.db_table} (lead_id, type, rep_id, at, note, created_at) "
            f"SELECT l.id, 'contacted', l.owner_id, now() - interval '100 minutes', '', now() "
            f"FROM {lead_t} l WHERE l.id >= %s AND l.id < %s AND l.id %% 2 = 0",
            [first, first + due],
        )
        cursor.execute(f"ANALYZE {t}")
        cursor.execute(f"ANALYZE {lead_t}")
    seed_s = time.perf_counter() - seeded
    started = time.perf_counter()
    result = sla_watch(at=timezone.now())
    took = time.perf_counter() - started
    say(
        f"(c) watch_sla pass, {Assignment.objects.count():,} assignments, {due:,} due",
        f"{took:.2f} s ({result.summary()})  (target <= 2 s; seeding {seed_s:.0f} s, not timed)",
    )
    started = time.perf_counter()
    again = sla_watch(at=timezone.now())
    say(
        "(c) a second pass right after (nothing left to settle)",
        f"{time.perf_counter() - started:.3f} s ({again.summary()})",
    )


# ----------------------------------------------------------------------------- (d)
def part_d(seconds: float = 20, rate: float = 20) -> None:
    import json

    from leadops.models import Lead

    intake = _load("intake")
    key = intake.setup_database()
    intake.drop_unrouted_bench_leads()
    Lead.objects.filter(status="pending").update(status="lost")  # a backlog would be routed first
    # A waiting POST holds its worker for up to `wait` seconds: threads, not sync workers (README).
    os.environ.update(GUNICORN_WORKER_CLASS="gthread", GUNICORN_WORKERS="2", GUNICORN_THREADS="8")
    server, port = intake.start_gunicorn()
    worker = intake.start([PY, "manage.py", "rqworker", "routing", "--worker-class", "rq.worker.SimpleWorker"])
    client = intake.Client(port, key)
    results = []

    async def one(n, scheduled):
        status, body = await client.post("/api/leads/?wait=2", intake.lead_body(10_000_000 + n))
        lead = json.loads(body) if status in (200, 201) else {}
        results.append((time.perf_counter() - scheduled, status, bool(lead.get("owner"))))

    async def run():
        began = time.perf_counter()
        tasks = []
        for i in range(int(rate * seconds)):
            scheduled = began + i / rate
            delay = scheduled - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(i, scheduled)))
        await asyncio.gather(*tasks)

    try:
        intake.wait_for_worker(worker)
        asyncio.run(run())
    finally:
        intake.stop(worker)
        intake.stop(server)
        intake.drop_routing_jobs()
    times = [t for t, _, _ in results]
    with_owner = [t for t, _, owner in results if owner]
    codes = {}
    for _, status, _ in results:
        codes[status] = codes.get(status, 0) + 1
    say(
        f"(d) POST ?wait=2 at {rate:.0f}/s for {seconds:.0f} s, one rqworker",
        f"{len(with_owner)}/{len(results)} answered with the owner; p50 {intake.pct(times, 50) * 1000:.0f} ms, "
        f"p99 {intake.pct(times, 99) * 1000:.0f} ms (target p99 <= 500 ms); statuses {codes}",
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--only", default="a,b,c,d")
    parser.add_argument("--leads", type=int, default=100_000)
    parser.add_argument("--deliveries", type=int, default=5_000)
    parser.add_argument("--sla-assignments", type=int, default=1_000_000)
    parser.add_argument("--sla-due", type=int, default=10_000)
    args = parser.parse_args()
    parts = set(args.only.split(","))
    os.environ.setdefault("DEBUG", "0")
    os.environ.setdefault("SECRET_KEY", "bench-only-not-secret")
    os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leadops.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection

    if connection.vendor != "postgresql" or not settings.REDIS_URL:
        raise SystemExit("needs DATABASE_URL=postgres://… and REDIS_URL=redis://…")
    print(f"bench/notify.py at {time.strftime('%Y-%m-%d %H:%M:%S')}; {load()}")
    if parts & {"a", "b", "c"}:
        old_name = connection.settings_dict["NAME"]
        connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
        try:
            if "a" in parts:
                part_a(args.leads)
            if "b" in parts:
                part_b(args.deliveries)
            if "c" in parts:
                part_c(args.sla_assignments, args.sla_due)
        finally:
            connection.creation.destroy_test_db(old_name, verbosity=0)
    if "d" in parts:
        part_d()


if __name__ == "__main__":
    main()
