"""Intake benchmark: prints figures, asserts nothing.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/leadops_intake REDIS_URL=redis://127.0.0.1:6379/5 \
        .venv/bin/python bench/intake.py [--only a,b,c] [--seconds 30] [--rows 100000] [--baseline-rows N]

(a) API under load, on gunicorn with the repo's gunicorn.conf.py (GUNICORN_WORKERS, GUNICORN_WORKER_CLASS,
    GUNICORN_THREADS override it) on 127.0.0.1, in one run:
    - the floor: bench/trivial_wsgi.py (reads the body, answers a fixed 201; no Django, no database) under the
      same gunicorn and client, 50 closed-loop clients: the machine's CPU time per request;
    - the API, 50 clients posting single leads for 30 s as fast as answers come back (closed loop):
      requests/s, p50, p99, and the machine's CPU time per request (all processes, from /proc/stat) as a
      ratio to the floor's, with the part spent in gunicorn and in the load client;
    - the data floor: bench/data_floor_wsgi.py (parse, INSERT the lead with a prepared statement, one Redis
      call; no Django) the same way: what any implementation of a post pays here, and the API as a ratio to it;
    - open loop at a fixed 200 posts/s for 30 s (latency counted from each post's scheduled time): p50, p99;
    - a rate sweep (200, 300, 400, … posts/s, 10 s each) up to the first rate whose p99 passes 100 ms: the
      highest rate with p99 ≤ 100 ms;
    - if Debian's `wrk` is installed, the closed loop again driven by wrk (C, 2 threads, 50 connections).
    Every post creates a lead and hands it to routing (one job per burst; no worker runs during (a); the jobs,
    and the leads left pending, are dropped afterwards). Each figure is printed with the load average.
(b) speed-to-lead: the same server plus one `manage.py rqworker routing` process; leads posted
    at a steady 50/s for 20 s; time from sending the POST to the lead's `assigned_at`: p50, p99.
(c) import of a 100,000-row CSV with `manage.py import_leads` in its own process: rows/s and
    peak memory (VmHWM), also at 10,000 rows to show memory does not grow with the file;
    beside django-import-export's plain non-bulk ModelResource import (the baseline) of the same
    file, as a ratio (--baseline-rows N: the baseline on the first N rows only, extrapolated per row).

Needs Postgres and Redis (DATABASE_URL, REDIS_URL); uses the database it is given (migrates it).
The load client is Python asyncio on the same 2 cores as the server, Postgres and Redis.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import os
import random
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PY = sys.executable
RUN_ID = f"{int(time.time())}"
WORKER_CLASS = os.environ.get("BENCH_WORKER_CLASS", "")  # e.g. rq.worker.SimpleWorker (no fork per job)
SERVER_ENV = {"DEBUG": "0", "SECRET_KEY": "bench-" + "x" * 50, "ALLOWED_HOSTS": "127.0.0.1", "LOG_LEVEL": "WARNING"}


def django_setup():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leadops.settings")
    import django

    django.setup()


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))] if values else float("nan")


# ----------------------------------------------------------------------------- HTTP client
class Client:
    """Minimal HTTP/1.1 POST over asyncio streams (gunicorn's sync workers close each connection)."""

    def __init__(self, port: int, key: str):
        self.port, self.key = port, key

    async def post(self, path: str, body: dict) -> tuple[int, bytes]:
        payload = json.dumps(body).encode()
        head = (
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Token {self.key}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\nConnection: close\r\n\r\n"
        ).encode()
        reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
        try:
            writer.write(head + payload)
            await writer.drain()
            data = await reader.read()
        finally:
            writer.close()
        status = int(data[9:12])
        return status, data.split(b"\r\n\r\n", 1)[1] if b"\r\n\r\n" in data else b""


def lead_body(n: int) -> dict:
    return {
        "source": f"bench-{RUN_ID}",
        "external_id": f"L-{n}",
        "email": f"buyer{n}@acme{n % 97}.example",
        "first_name": "Ana",
        "last_name": "Ruiz",
        "company": f"Acme {n % 97}",
        "country": "DE",
        "region": "BY",
        "industry": "software",
        "company_size": 250,
        "score": 70,
        "extra": {"campaign": "spring"},
    }


async def closed_loop(client: Client, clients: int, seconds: float, start_n: int):
    latencies, codes, counter = [], {}, [start_n]
    deadline = time.perf_counter() + seconds

    async def one_client():
        while time.perf_counter() < deadline:
            counter[0] += 1
            t0 = time.perf_counter()
            status, _ = await client.post("/api/leads/", lead_body(counter[0]))
            latencies.append(time.perf_counter() - t0)
            codes[status] = codes.get(status, 0) + 1

    began = time.perf_counter()
    await asyncio.gather(*(one_client() for _ in range(clients)))
    return latencies, codes, time.perf_counter() - began, counter[0]


async def open_loop(client: Client, rate: float, seconds: float, start_n: int, clients: int = 50):
    """`rate` posts/s at fixed times, at most `clients` in flight; latency from the scheduled time."""
    results, codes = [], {}
    semaphore = asyncio.Semaphore(clients)
    began = time.perf_counter()

    async def one(n, scheduled):
        async with semaphore:
            sent_wall = time.time() - (time.perf_counter() - scheduled)
            status, body = await client.post("/api/leads/", lead_body(n))
            results.append(
                (
                    time.perf_counter() - scheduled,
                    sent_wall,
                    json.loads(body).get("id") if status in (200, 201) else None,
                )
            )
            codes[status] = codes.get(status, 0) + 1

    tasks = []
    total = int(rate * seconds)
    for i in range(total):
        scheduled = began + i / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(start_n + i, scheduled)))
    await asyncio.gather(*tasks)
    return results, codes, start_n + total


# ----------------------------------------------------------------------------- processes
def gunicorn_settings() -> str:
    """The worker class and count gunicorn.conf.py gives (GUNICORN_WORKERS, GUNICORN_WORKER_CLASS, GUNICORN_THREADS)."""
    conf: dict = {}
    exec((ROOT / "gunicorn.conf.py").read_text(), conf)
    threads = f" × {conf['threads']} threads" if conf.get("threads", 1) > 1 else ""
    return f"{conf['workers']} {conf['worker_class']} workers{threads}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


LOGS = Path(tempfile.mkdtemp(prefix="leadops-bench-logs-"))


def start(cmd, **env) -> subprocess.Popen:
    """Start a server process; its output goes to a file (a pipe nobody reads would block it)."""
    log = (LOGS / f"{Path(cmd[2]).name}-{time.time():.0f}.log").open("w")
    return subprocess.Popen(
        cmd,
        cwd=ROOT,
        env={**os.environ, **SERVER_ENV, **env},
        start_new_session=True,
        stdout=log,
        stderr=subprocess.STDOUT,
        text=True,
    )


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


def start_gunicorn(app: str = "leadops.wsgi") -> tuple[subprocess.Popen, int]:
    """gunicorn with the repo's gunicorn.conf.py (worker class and count for this box), on a free port."""
    port = free_port()
    server = start([PY, "-m", "gunicorn", app, "-c", str(ROOT / "gunicorn.conf.py"), "--bind", f"127.0.0.1:{port}"])
    for _ in range(100):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return server, port
        except OSError:
            time.sleep(0.2)
    stop(server)
    raise SystemExit(f"gunicorn did not start; see the logs in {LOGS}")


def setup_database() -> str:
    """Migrate; an integration without a practical rate limit; a team of 20 reps and a round-robin rule."""
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from leadops.services import integration_create
    from reps.models import Rep, Team
    from routing.models import Rule

    integration, key = integration_create(
        name=f"bench {RUN_ID}",
        rate_limit_per_minute=10_000_000,
        allowed_sources=[f"bench-{RUN_ID}", f"bench-wrk-{RUN_ID}"],
    )
    team, _ = Team.objects.get_or_create(name="Bench team")
    for i in range(20):
        Rep.objects.get_or_create(
            email=f"bench-rep{i}@example.com",
            defaults={"name": f"Bench Rep {i}", "team": team, "capacity": 10_000_000, "daily_cap": 10_000_000},
        )
    Rule.objects.get_or_create(name="Bench round robin", defaults={"priority": -1_000_000, "pool_team": team})
    return key


def drop_routing_jobs():
    import django_rq

    django_rq.get_queue("routing").empty()


def redis_delete(key: str) -> None:
    import django_rq

    django_rq.get_connection("routing").delete(key)


def drop_unrouted_bench_leads() -> int:
    """Delete the API bench's leads still pending (their jobs were dropped). Left in place, they
    are a backlog that routing jobs drain oldest first (as they would drain leads whose jobs
    were lost), and (b) would time that backlog instead of fresh leads."""
    from leadops.models import Lead

    return Lead.objects.filter(source__startswith="bench-", status="pending").delete()[0]


# ----------------------------------------------------------------------------- (a) and (b)
def machine_cpu_seconds() -> float:
    """CPU time the whole machine has spent busy (every process, the kernel too), from /proc/stat."""
    user, nice, system, idle, iowait, irq, softirq, steal = (int(v) for v in open("/proc/stat").readline().split()[1:9])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def process_cpu_seconds(pids) -> float:
    total = 0.0
    for pid in pids:
        try:
            fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def server_pids(server: subprocess.Popen) -> list[int]:
    children = subprocess.run(["pgrep", "-P", str(server.pid)], capture_output=True, text=True).stdout.split()
    return [server.pid, *map(int, children)]


def cpu_per_request(server: subprocess.Popen, client: Client, seconds: float) -> dict:
    """A closed loop of 50 clients; the machine's and the server's CPU time per request, and the latencies."""
    asyncio.run(closed_loop(client, 10, 2, 10_000_000 + random.randrange(10**8)))  # warm up every worker
    pids = server_pids(server)
    machine, server_cpu, own = machine_cpu_seconds(), process_cpu_seconds(pids), time.process_time()
    latencies, codes, elapsed, _ = asyncio.run(closed_loop(client, 50, seconds, random.randrange(10**9)))
    n = len(latencies)
    return {
        "n": n,
        "rate": n / elapsed,
        "elapsed": elapsed,
        "codes": codes,
        "latencies": latencies,
        "machine": (machine_cpu_seconds() - machine) / n,
        "server": (process_cpu_seconds(pids) - server_cpu) / n,
        "client": (time.process_time() - own) / n,
    }


def open_loop_latencies(client: Client, rate: float, seconds: float) -> tuple[float, float, dict]:
    results, codes, _ = asyncio.run(open_loop(client, rate, seconds, random.randrange(10**9)))
    lat = [r[0] for r in results]
    return pct(lat, 50), pct(lat, 99), codes


SWEEP_RATES = (200, 300, 400, 500, 600, 700, 800, 1000)
SWEEP_P99 = 0.100


def bench_api(key: str, seconds: float) -> None:
    """(a): the trivial-WSGI floor, then the API closed loop, the open loop at 200/s and the rate sweep."""
    floor, port = start_gunicorn("bench.trivial_wsgi:application")
    try:
        base = cpu_per_request(floor, Client(port, key), min(seconds, 10))
    finally:
        stop(floor)
    print(
        f"(a) floor: trivial WSGI app under the same gunicorn, closed loop 50 clients: {base['rate']:,.0f} req/s, "
        f"{base['machine'] * 1000:.2f} ms of machine CPU per request ({base['server'] * 1000:.2f} ms in gunicorn); "
        f"load {load()}"
    )
    data_floor, port = start_gunicorn("bench.data_floor_wsgi:application")
    try:
        data = cpu_per_request(data_floor, Client(port, key), min(seconds, 10))
    finally:
        stop(data_floor)
        drop_unrouted_bench_leads()
        redis_delete("leadops:bench-floor")
    print(
        f"(a) data floor: plain WSGI app doing the post's unavoidable work (parse, INSERT the lead with a prepared "
        f"statement, one Redis call), closed loop 50 clients: {data['rate']:,.0f} req/s, "
        f"{data['machine'] * 1000:.2f} ms of machine CPU per request ({data['machine'] / base['machine']:.2f}× the "
        f"trivial floor); load {load()}"
    )
    server, port = start_gunicorn()
    try:
        client = Client(port, key)
        api = cpu_per_request(server, client, seconds)
        lat = api["latencies"]
        print(
            f"(a) closed loop, 50 clients, {api['elapsed']:.0f} s: {api['rate']:,.0f} req/s, "
            f"p50 {pct(lat, 50) * 1000:.1f} ms, p99 {pct(lat, 99) * 1000:.1f} ms, statuses {api['codes']}; "
            f"load {load()}"
        )
        print(
            f"(a) CPU per request: {api['machine'] * 1000:.2f} ms of the machine = "
            f"{api['machine'] / base['machine']:.2f}× the floor's {base['machine'] * 1000:.2f} ms (target ≤ 2.5×); "
            f"gunicorn {api['server'] * 1000:.2f} ms ({api['server'] / base['server']:.2f}× the floor's), "
            f"load client {api['client'] * 1000:.2f} ms, the rest (Postgres, Redis, kernel, anything else running) "
            f"{(api['machine'] - api['server'] - api['client']) * 1000:.2f} ms; "
            f"{api['machine'] / data['machine']:.2f}× the data floor's {data['machine'] * 1000:.2f} ms"
        )
        p50, p99, codes = open_loop_latencies(client, 200, seconds)
        print(
            f"(a) open loop, 200 posts/s, {seconds:.0f} s: p50 {p50 * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms "
            f"(target ≤ 50 ms), statuses {codes}; load {load()}"
        )
        best = None
        for rate in SWEEP_RATES:
            p50, p99, codes = open_loop_latencies(client, rate, max(5.0, seconds / 3))
            ok = p99 <= SWEEP_P99 and set(codes) <= {200, 201}
            print(f"(a) sweep {rate} posts/s: p50 {p50 * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms, statuses {codes}")
            if not ok:
                break
            best = rate
        print(
            f"(a) highest rate with p99 ≤ {SWEEP_P99 * 1000:.0f} ms: "
            f"{f'{best} posts/s' if best else f'below {SWEEP_RATES[0]} posts/s'} (target ≥ 400); load {load()}"
        )
    finally:
        stop(server)
        drop_routing_jobs()
        drop_unrouted_bench_leads()


def load() -> str:
    return open("/proc/loadavg").read().split(" ", 1)[0]


WRK_SCRIPT = """
local n = 0
local thread_no = 0
function setup(thread) thread:set("no", thread_no); thread_no = thread_no + 1 end
function request()
  n = n + 1
  local body = string.format('{"source":"bench-wrk-%s","external_id":"W-%d-%d","email":"w%d-%d@acme.example",'
    .. '"first_name":"Ana","last_name":"Ruiz","company":"Acme","country":"DE","region":"BY","industry":"software",'
    .. '"company_size":250,"score":70,"extra":{"campaign":"spring"}}', os.getenv("RUN_ID"), no, n, no, n)
  return wrk.format("POST", "/api/leads/", {["Content-Type"] = "application/json",
    ["Authorization"] = "Token " .. os.getenv("LEADOPS_KEY")}, body)
end
"""


def bench_api_wrk(key: str, seconds: float) -> None:
    """The same closed loop driven by wrk (C, 2 threads, 50 connections), when Debian's wrk is installed."""
    if not shutil.which("wrk"):
        print("(a) wrk not installed (apt-get install wrk): skipped the wrk run")
        return
    script = Path(tempfile.mkdtemp(prefix="leadops-wrk-")) / "post.lua"
    script.write_text(WRK_SCRIPT)
    server, port = start_gunicorn()
    try:
        done = subprocess.run(
            ["wrk", "-t2", "-c50", f"-d{int(seconds)}s", "--latency", "-s", str(script), f"http://127.0.0.1:{port}"],
            capture_output=True,
            text=True,
            env={**os.environ, "RUN_ID": RUN_ID, "LEADOPS_KEY": key},
        )
        out = done.stdout
        rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
        p50, p99 = (re.search(rf"\s{p}%\s+([\d.]+\w+)", out) for p in (50, 99))
        errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
        print(
            f"(a) wrk closed loop, 50 connections, {seconds:.0f} s: {float(rate.group(1)):,.0f} req/s, "
            f"p50 {p50.group(1)}, p99 {p99.group(1)}, non-2xx {errors.group(1) if errors else 0}"
        )
    finally:
        stop(server)
        drop_routing_jobs()
        drop_unrouted_bench_leads()


def wait_for_worker(worker: subprocess.Popen, timeout: float = 60) -> None:
    """Until the rqworker process has registered and listens on the queue (its start-up, seconds
    on a busy machine, is not speed-to-lead); a fixed sleep let the first leads wait for it."""
    import django_rq
    from rq import Worker

    queue = django_rq.get_queue("routing")
    deadline = time.time() + timeout
    while time.time() < deadline and worker.poll() is None:
        if any(w.pid == worker.pid for w in Worker.all(queue=queue)):
            time.sleep(0.5)
            return
        time.sleep(0.2)
    raise SystemExit(f"the rqworker did not start; see the logs in {LOGS}")


def vacuum_if_autovacuum_is_off() -> None:
    """The API runs and this module delete the leads they leave pending; with autovacuum off (as on some
    CI machines) their dead rows pile up under the pending-status index, and each routing job's claim
    (`status = 'pending' … FOR UPDATE SKIP LOCKED`) wades through them: 0.11 s a job at 850,000 dead rows.
    A live server's autovacuum keeps that index small; here the bench does it, and says so."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW autovacuum")
        if cursor.fetchone()[0] == "on":
            return
        began = time.perf_counter()
        cursor.execute("VACUUM (ANALYZE) leadops_lead")
    print(f"(b) autovacuum is off on this server: vacuumed the leads table first ({time.perf_counter() - began:.1f} s)")


def bench_speed_to_lead(key: str, seconds: float = 20, rate: float = 50) -> None:
    from leadops.models import Lead

    stale = drop_unrouted_bench_leads()  # e.g. from an interrupted run
    backlog = Lead.objects.filter(status="pending").count()
    if stale or backlog:
        print(
            f"(b) deleted {stale} unrouted leads of earlier bench runs; {backlog} other leads pending "
            f"(the first jobs route them too, oldest first)"
        )
    vacuum_if_autovacuum_is_off()
    server, port = start_gunicorn()
    worker_class = ["--worker-class", WORKER_CLASS] if WORKER_CLASS else []
    worker = start([PY, "manage.py", "rqworker", "routing", *worker_class])
    try:
        wait_for_worker(worker)
        results, codes, _ = asyncio.run(open_loop(Client(port, key), rate, seconds, 30_000_000))
        sent = {lead_id: sent_wall for _, sent_wall, lead_id in results if lead_id}
        deadline = time.time() + 60
        while time.time() < deadline:
            pending = Lead.objects.filter(id__in=sent, assigned_at__isnull=True).count()
            if not pending:
                break
            time.sleep(1)
        assigned = dict(Lead.objects.filter(id__in=sent, assigned_at__isnull=False).values_list("id", "assigned_at"))
        waits = [assigned[i].timestamp() - sent[i] for i in assigned]
        print(
            f"(b) speed-to-lead, {rate:.0f} leads/s for {seconds:.0f} s, one rqworker {WORKER_CLASS or '(forking)'}: "
            f"{len(assigned)}/{len(sent)} "
            f"assigned, p50 {pct(waits, 50) * 1000:.0f} ms, p99 {pct(waits, 99) * 1000:.0f} ms, statuses {codes}"
        )
    finally:
        stop(worker)
        stop(server)
        drop_routing_jobs()


# ----------------------------------------------------------------------------- (c)
def write_csv(path: Path, rows: int) -> None:
    rng = random.Random(7)
    with path.open("w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(
            [
                "External ID",
                "Email",
                "First Name",
                "Last Name",
                "Company",
                "Country",
                "Employees",
                "Score",
                "Zip",
                "extra.campaign",
            ]
        )
        for n in range(rows):
            bad = n % 100 == 99  # 1% bad rows: a broken email
            out.writerow(
                [
                    f"R-{n}",
                    "not-an-email" if bad else f"lead{n}@firm{n % 500}.example",
                    "Ana",
                    "Ruiz",
                    f"Firm {n % 500}",
                    rng.choice(["de", "AT", "ch", "FR", "uk"]),
                    rng.choice(["12", "120", "1200", ""]),
                    rng.randint(0, 100),
                    f"{rng.randint(10000, 99999)}",
                    rng.choice(["spring", "", "webinar"]),
                ]
            )


def peak_memory_kb() -> int:
    """This process's peak resident memory. Not ru_maxrss: Linux carries that over from the
    parent through fork and exec, so a worker started by a large bench process reported the
    parent's size."""
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def import_worker(path: str, source: str) -> None:
    """Run in its own process: the command, then this process's time and peak memory as JSON."""
    django_setup()
    import io

    from django.core.management import call_command

    began = time.perf_counter()
    out = io.StringIO()
    call_command("import_leads", path, "--source", source, "--no-progress", stdout=out, stderr=io.StringIO())
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(
        json.dumps(
            {
                "seconds": time.perf_counter() - began,
                "maxrss_kb": peak_memory_kb(),
                "cpu": usage.ru_utime + usage.ru_stime,
                "summary": out.getvalue().strip(),
            }
        )
    )


def baseline_worker(path: str, rows: int, source: str) -> None:
    """django-import-export's plain ModelResource import of the first `rows` rows: no bulk, the
    natural key (source, external_id) as its import id, each row looked up and saved on its own."""
    django_setup()
    import tablib
    from import_export import resources

    from leadops.models import Lead

    class PlainLeadResource(resources.ModelResource):
        class Meta:
            model = Lead
            fields = (
                "source",
                "external_id",
                "email",
                "first_name",
                "last_name",
                "company",
                "country",
                "company_size",
                "score",
                "postal_code",
            )
            import_id_fields = ("source", "external_id")  # the default ("id") fails every row: the file has no id

    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        next(reader)
        dataset = tablib.Dataset(
            headers=[
                "source",
                "external_id",
                "email",
                "first_name",
                "last_name",
                "company",
                "country",
                "company_size",
                "score",
                "postal_code",
            ]
        )
        for i, r in enumerate(reader):
            if i >= rows:
                break
            dataset.append([source, r[0], r[1], r[2], r[3], r[4], r[5][:2].upper(), r[6] or None, r[7], r[8]])
    began = time.perf_counter()
    result = PlainLeadResource().import_data(dataset, dry_run=False)
    print(
        json.dumps(
            {
                "seconds": time.perf_counter() - began,
                "maxrss_kb": peak_memory_kb(),
                "summary": dict(result.totals),
                "rows": rows,
            }
        )
    )


def run_json(*args) -> dict:
    done = subprocess.run(
        [PY, __file__, *args], cwd=ROOT, env={**os.environ, "LOG_LEVEL": "WARNING"}, capture_output=True, text=True
    )
    if done.returncode:
        raise SystemExit(done.stderr[-3000:])
    return json.loads(done.stdout.strip().splitlines()[-1])


def bench_import(rows: int, baseline_rows: int) -> None:
    folder = Path(tempfile.mkdtemp(prefix="leadops-bench-"))
    small, big = folder / "leads-10k.csv", folder / f"leads-{rows}.csv"
    write_csv(small, 10_000)
    write_csv(big, rows)
    first = run_json("--import-worker", str(small), f"bench-import-small-{RUN_ID}")
    main = run_json("--import-worker", str(big), f"bench-import-{RUN_ID}")
    again = run_json("--import-worker", str(big), f"bench-import-{RUN_ID}")
    base = run_json("--baseline-worker", str(big), str(baseline_rows), f"bench-baseline-{RUN_ID}")
    drop_routing_jobs()
    ours = rows / main["seconds"]
    theirs = base["rows"] / base["seconds"]
    print(
        f"(c) import_leads 10,000 rows: {10_000 / first['seconds']:,.0f} rows/s, "
        f"peak {first['maxrss_kb'] / 1024:.0f} MB"
    )
    print(
        f"(c) import_leads {rows:,} rows: {ours:,.0f} rows/s ({main['seconds']:.1f} s wall, {main['cpu']:.1f} s CPU "
        f"of the importing process incl. start-up), peak {main['maxrss_kb'] / 1024:.0f} MB "
        f"— {main['summary']}"
    )
    print(f"(c) same file again: {rows / again['seconds']:,.0f} rows/s — {again['summary']}")
    scope = "the same file" if base["rows"] >= rows else f"first {base['rows']:,} rows (extrapolated per row)"
    totals = base["summary"]
    print(
        f"(c) baseline django-import-export plain ModelResource, {scope}: "
        f"{theirs:,.0f} rows/s ({base['seconds']:.0f} s), peak {base['maxrss_kb'] / 1024:.0f} MB — "
        f"new {totals['new']:,}, errors {totals['error']:,} — ratio {ours / theirs:.1f}×"
    )
    if totals["new"] < base["rows"] * 0.9:
        print("(c) WARNING: the baseline stored few of its rows, so the ratio compares against rows that failed")
    from leadops.models import Lead

    Lead.objects.filter(
        source__in=[f"bench-import-small-{RUN_ID}", f"bench-import-{RUN_ID}", f"bench-baseline-{RUN_ID}"]
    ).delete()  # the next run starts from the same table


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--only", default="a,b,c")
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--baseline-rows", type=int, default=None, help="default: the whole file")
    parser.add_argument("--import-worker", nargs=2)
    parser.add_argument("--baseline-worker", nargs=3)
    args = parser.parse_args()
    if args.import_worker:
        return import_worker(*args.import_worker)
    if args.baseline_worker:
        path, rows, source = args.baseline_worker
        return baseline_worker(path, int(rows), source)
    if not (os.environ.get("DATABASE_URL", "").startswith("postgres") and os.environ.get("REDIS_URL")):
        raise SystemExit("bench/intake.py needs DATABASE_URL=postgres://… and REDIS_URL=redis://… (see the docstring)")
    django_setup()
    key = setup_database()
    parts = set(args.only.split(","))
    print(
        f"intake benchmark on {os.cpu_count()} CPUs; Postgres {os.environ['DATABASE_URL'].rsplit('/', 1)[-1]}; "
        f"gunicorn {gunicorn_settings()}; load average {os.getloadavg()[0]:.2f}"
    )
    if "a" in parts:
        bench_api(key, args.seconds)
        bench_api_wrk(key, args.seconds)
    if "b" in parts:
        bench_speed_to_lead(key)
    if "c" in parts:
        bench_import(args.rows, args.baseline_rows or args.rows)


if __name__ == "__main__":
    main()
