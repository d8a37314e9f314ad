"""Simulation: what a draft set-up (or a stored version, or the current one) would have done
with the leads of a period, next to what really happened. It writes nothing.

`routing_simulate` replays the period's leads through routing/replay.py (the same engine the
router runs) and compares each lead's simulated first decision with its first Assignment.
On PostgreSQL it runs in a read-only transaction that is rolled back at the end.
"""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import django_rq
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from redis.exceptions import RedisError
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus

from leadops.models import Lead, LeadStatus
from reps.models import Rep
from routing.engine import ASSIGNED, POOLED, UNROUTABLE, LeadFacts, RoutingEngine
from routing.models import Assignment, RoutingVersion
from routing.reasons import reason_summary
from routing.replay import Replay, ReplaySetup, ReplayStart
from routing.routing_file import RoutingFileError, routing_config_check, routing_config_dump
from routing.services.snapshot import LEAD_FACT_COLUMNS, routing_snapshot_load
from routing.versions import version_document

CHANGED_SHOWN = 100
DEFAULT_DAYS = 30
FACTS = LEAD_FACT_COLUMNS.index("status")
CLOSED = (LeadStatus.CONVERTED, LeadStatus.LOST)
OUTCOMES_COUNTED = (UNROUTABLE, POOLED)
PROGRESS_EVERY = 2000  # leads between two progress reports
LEAD_CHUNK = 5000  # rows fetched at a time from each of the two streams the replay reads


@dataclass
class SimulationTimings:
    loading: float = 0.0  # the set-up and the state at the start
    deciding: float = 0.0  # the replay: the leads streamed, each compared with its first real decision as it goes
    comparing: float = 0.0  # the totals put together


@dataclass
class Simulation:
    result: dict  # the contract's object (simulate_routing --json)
    timings: SimulationTimings = field(default_factory=SimulationTimings)
    never_fired: list[str] = field(default_factory=list)  # active rules of the set-up that decided no lead


def simulation_period(start: dt.date | None, end: dt.date | None) -> tuple[dt.date, dt.date]:
    """Default: the last 30 days, today included (server zone)."""
    end = end or timezone.localdate()
    return start or end - dt.timedelta(days=DEFAULT_DAYS - 1), end


def _bounds(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    zone = timezone.get_current_timezone()
    return (
        dt.datetime.combine(start, dt.time(), tzinfo=zone),
        dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), tzinfo=zone),
    )


def routing_simulate(
    *,
    draft: dict | None = None,
    version: int | None = None,
    start: dt.date | None = None,
    end: dt.date | None = None,
    source: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Simulation:
    """Replay the period's leads under `draft` (a routing document), version N, or the current set-up.

    Raises RoutingFileError when the draft (or version) does not validate. Writes nothing: on
    PostgreSQL inside `SET TRANSACTION READ ONLY`, always rolled back.
    """
    start, end = simulation_period(start, end)
    with _read_only():
        return _simulate(draft, version, start, end, source, progress)


@contextmanager
def _read_only() -> Iterator[None]:
    """A transaction that cannot write (PostgreSQL: SET TRANSACTION READ ONLY) and is rolled back.

    Inside an outer transaction it is a savepoint; rolling it back undoes the read-only setting."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION READ ONLY")
        try:
            yield
        finally:
            transaction.set_rollback(True)


def _setup(draft: dict | None, version: int | None) -> ReplaySetup:
    if version is not None:
        document = version_document(version)
        if document is None:
            raise RoutingFileError([f"v{version}: there is no such routing version"])
        settings = RoutingVersion.objects.values_list("settings", flat=True).get(number=version)
        return ReplaySetup.from_document(
            document, existing_owner_first=settings.get("existing_owner_first"), version=version
        )
    if draft is not None:
        return ReplaySetup.from_document(_draft_document(draft))
    return ReplaySetup.from_document(routing_config_dump())


def _draft_document(draft: dict) -> dict:
    """A draft file as the set-up it would make: checked like load_routing, laid over the current one
    (what the file leaves out stays; rules it does not name are off, as a load would make them)."""
    checked = routing_config_check(draft)
    current = routing_config_dump()
    out = {}
    for section, key in (("skills", None), ("teams", "name"), ("territories", "name"), ("reps", "email")):
        entries = {(e if key is None else e[key]): e for e in current[section]}
        for name, entry in checked[section].items():
            entries[name] = entry
        out[section] = list(entries.values())
    rules = {r["name"]: {**r, "active": False} for r in current["rules"]}
    rules.update(checked["rules"])
    out["rules"] = list(rules.values())
    return out


def _leads(start_at, end_at, source):
    leads = Lead.objects.filter(created_at__gte=start_at, created_at__lt=end_at)
    if source:
        leads = leads.filter(source=source)
    return leads


def _simulate(draft, version, start, end, source, progress) -> Simulation:
    timings = SimulationTimings()
    began = time.perf_counter()
    start_at, end_at = _bounds(start, end)
    setup = _setup(draft, version)
    leads = _leads(start_at, end_at, source)
    total = leads.count()
    state = ReplayStart.load(at=start_at, emails_of=leads if setup.existing_owner_first else None)
    replay = Replay(setup, state, until=end_at)
    comparison = _Comparison(setup)
    timings.loading = time.perf_counter() - began

    began = time.perf_counter()
    if progress is not None:
        progress(0, total)
    decide, add = replay.decide, comparison.add
    for n, (row, actual) in enumerate(_leads_and_first_decisions(leads), 1):
        status = row[FACTS + 1]
        decision = decide(LeadFacts(*row[:FACTS]), at=row[FACTS], closes_at=row[-1] if status in CLOSED else None)
        add(row[0], decision, actual)
        if progress is not None and n % PROGRESS_EVERY == 0:
            progress(n, total)
    if progress is not None:
        progress(total, total)
    timings.deciding = time.perf_counter() - began

    began = time.perf_counter()
    result = comparison.result(start, end)
    timings.comparing = time.perf_counter() - began
    fired = {r["name"] for r in result["rules"] if r["simulated"]}
    never = [r.name for r in setup.rules if r.active and r.name not in fired]
    return Simulation(result=result, timings=timings, never_fired=never)


def _leads_and_first_decisions(leads) -> Iterator[tuple[tuple, tuple]]:
    """Each lead of the period in the order they came (created_at, id), with its first Assignment
    (outcome, rep id, rule name; _Comparison.NO_DECISION when it has none), streamed from two queries read side by side
    in that same order: memory stays flat whatever the period (a year of leads and decisions held at
    once is gigabytes)."""
    columns = (*LEAD_FACT_COLUMNS[:FACTS], "created_at", "status", "closed_at")
    rows = leads.order_by("created_at", "id").values_list(*columns).iterator(chunk_size=LEAD_CHUNK)
    decisions = (
        Assignment.objects.filter(lead__in=leads.order_by().values("pk"))
        .order_by("lead__created_at", "lead_id", "created_at", "id")
        .values_list("lead_id", "outcome", "rep_id", "rule_name")
        .iterator(chunk_size=LEAD_CHUNK)
    )
    decision = next(decisions, None)
    for row in rows:
        first = None
        while decision is not None and decision[0] == row[0]:  # this lead's decisions, earliest first
            first = first or decision[1:]
            decision = next(decisions, None)
        yield row, first or _Comparison.NO_DECISION


class _Comparison:
    """Each simulated decision next to the lead's first real one, counted as the replay goes.

    Decisions are not kept (a month of them with their trace material is hundreds of MB); only
    the first CHANGED_SHOWN changed leads keep their reason, rendered at once.
    """

    NO_DECISION = (None, None, "")

    def __init__(self, setup: ReplaySetup):
        self.setup = setup
        self.emails = dict(Rep.objects.values_list("id", "email"))
        self.emails.update(setup.rep_email)
        self.leads = self.changed_owner = 0
        self.reps_actual, self.reps_simulated = Counter(), Counter()
        self.rules_actual, self.rules_simulated = Counter(), Counter()
        self.outcomes = Counter()
        self.changed: list[dict] = []

    def add(self, lead_id: int, decision, actual: tuple) -> None:
        """One lead's simulated decision next to `actual`, its first real one (outcome, rep id, rule name)."""
        self.leads += 1
        outcome, rep_id, rule_name = actual
        simulated_id = decision.rep_id if decision.outcome == ASSIGNED else None
        if rep_id:
            self.reps_actual[rep_id] += 1
        if simulated_id is not None:
            self.reps_simulated[simulated_id] += 1
        if rule_name:
            self.rules_actual[rule_name] += 1
        if decision.rule_id:
            self.rules_simulated[decision.rule_id] += 1
        if outcome in OUTCOMES_COUNTED:
            self.outcomes[(outcome, "actual")] += 1
        if decision.outcome in OUTCOMES_COUNTED:
            self.outcomes[(decision.outcome, "simulated")] += 1
        if rep_id != simulated_id:
            actual_rep = self.emails.get(rep_id) if rep_id else None
            simulated_rep = self.setup.rep_email.get(simulated_id) if simulated_id is not None else None
            if actual_rep != simulated_rep:
                self.changed_owner += 1
                if len(self.changed) < CHANGED_SHOWN:
                    rule = self.setup.rule_name.get(decision.rule_id) if decision.rule_id else None
                    self.changed.append(
                        {
                            "lead_id": lead_id,
                            "actual_rep": actual_rep,
                            "simulated_rep": simulated_rep,
                            "simulated_rule": rule,
                            "reason": reason_summary(decision.reason),
                        }
                    )

    def result(self, start: dt.date, end: dt.date) -> dict:
        reps, rules = Counter(), Counter()
        for rep_id, n in self.reps_actual.items():
            reps[(self.emails.get(rep_id), "actual")] += n
        for rep_id, n in self.reps_simulated.items():
            reps[(self.setup.rep_email.get(rep_id), "simulated")] += n
        for name, n in self.rules_actual.items():
            rules[(name, "actual")] += n
        for rule_id, n in self.rules_simulated.items():
            name = self.setup.rule_name.get(rule_id)
            if name:
                rules[(name, "simulated")] += n
        rep_names = sorted({name for name, _ in reps if name is not None})
        rule_names = sorted({name for name, _ in rules})
        return {
            "start": start.isoformat(),
            "end": end.isoformat(),
            "leads": self.leads,
            "changed_owner": self.changed_owner,
            "reps": [
                {"email": e, "actual": reps[(e, "actual")], "simulated": reps[(e, "simulated")]} for e in rep_names
            ],
            "rules": [
                {"name": n, "actual": rules[(n, "actual")], "simulated": rules[(n, "simulated")]} for n in rule_names
            ],
            **{name: {k: self.outcomes[(name, k)] for k in ("actual", "simulated")} for name in (UNROUTABLE, POOLED)},
            "changed": self.changed,
        }


# --- big periods in the background (the admin page) ------------------------------------------

SIMULATION_JOB = "routing.jobs.simulate_routing_job"
SIMULATION_QUEUE = "default"
SIMULATION_KEPT_SECONDS = 24 * 3600  # how long a background simulation's result stays readable


def simulation_lead_count(*, start: dt.date | None, end: dt.date | None, source: str | None) -> int:
    """How many leads a simulation of the period would replay (the page runs big ones as a job)."""
    start, end = simulation_period(start, end)
    return _leads(*_bounds(start, end), source).count()


def simulation_background_from() -> int | None:
    """From how many leads a simulation runs as a job (SIMULATION_JOB_MIN_LEADS); None when jobs
    run inline (no REDIS_URL): then every simulation runs where it was asked for."""
    return settings.SIMULATION_JOB_MIN_LEADS if django_rq.get_queue(SIMULATION_QUEUE).is_async else None


def simulation_in_background(total: int) -> bool:
    threshold = simulation_background_from()
    return threshold is not None and total >= threshold


def simulation_check(*, draft: dict | None = None, version: int | None = None) -> None:
    """Raise RoutingFileError now, before a job is queued, when the draft or the version cannot be simulated."""
    _setup(draft, version)


def simulation_outcome(params: dict, *, progress: Callable[[int, int], None] | None = None) -> dict:
    """Run a simulation described by plain data (what the page asked for) and return plain data:
    {"result", "never_fired", "timings"} or {"errors"} (JSON, so a job can return it)."""
    try:
        simulation = routing_simulate(
            draft=params.get("draft"),
            version=params.get("version"),
            start=dt.date.fromisoformat(params["start"]) if params.get("start") else None,
            end=dt.date.fromisoformat(params["end"]) if params.get("end") else None,
            source=params.get("source") or None,
            progress=progress,
        )
    except RoutingFileError as err:
        return {"errors": list(err.messages)}
    return {
        "result": simulation.result,
        "never_fired": simulation.never_fired,
        "timings": {k: round(v, 3) for k, v in vars(simulation.timings).items()},
    }


def simulation_enqueue(params: dict, *, who: str, total: int) -> str:
    """Queue a simulation (plain-data `params`, see simulation_outcome); returns the job's id.

    Progress goes into the job's meta (`done` of `total` leads), the outcome is the job's return
    value, kept SIMULATION_KEPT_SECONDS so the result page survives reloads."""
    # Enqueued at once, not on commit: the job reads committed data only and writes nothing.
    job = django_rq.get_queue(SIMULATION_QUEUE, commit_mode="auto").enqueue(
        SIMULATION_JOB,
        params,
        job_timeout=3600,
        result_ttl=SIMULATION_KEPT_SECONDS,
        failure_ttl=SIMULATION_KEPT_SECONDS,
        meta={"who": who, "done": 0, "total": total},
    )
    return job.id


@dataclass
class SimulationRun:
    """A background simulation as the page shows it."""

    state: str  # queued, running, finished, failed
    done: int
    total: int
    params: dict
    who: str
    outcome: dict | None = None  # simulation_outcome's answer once finished

    def as_dict(self) -> dict:
        return {"state": self.state, "done": self.done, "total": self.total}


def simulation_run(job_id: str) -> SimulationRun | None:
    """The background simulation `job_id`, or None when there is none (unknown, expired, another kind of job).

    Its state is "unreachable" while Redis does not answer (the page says so and keeps asking)."""
    try:
        job = Job.fetch(job_id, connection=django_rq.get_connection(SIMULATION_QUEUE))
        if job.func_name != SIMULATION_JOB:
            return None  # the page shows simulations only, never another job's result
        state = {
            JobStatus.FINISHED: "finished",
            JobStatus.FAILED: "failed",
            JobStatus.STOPPED: "failed",
            JobStatus.CANCELED: "failed",
            JobStatus.STARTED: "running",
        }.get(job.get_status(), "queued")
        meta = job.get_meta()
        return SimulationRun(
            state=state,
            done=meta.get("done", 0),
            total=meta.get("total", 0),
            params=job.args[0] if job.args else {},
            who=meta.get("who", ""),
            outcome=job.return_value() if state == "finished" else None,
        )
    except (NoSuchJobError, ValueError):
        return None
    except RedisError:
        return SimulationRun(state="unreachable", done=0, total=0, params={}, who="")


@dataclass
class LeadTrial:
    """What the set-up would do with one lead now: the engine's decision, named for people."""

    outcome: str
    rep_email: str | None
    rep_name: str | None
    rule_name: str | None
    reason: dict


def routing_try_lead(
    *, facts: LeadFacts, version: int | None = None, draft: dict | None = None, now: dt.datetime | None = None
) -> LeadTrial:
    """The decision the current set-up (or version N, or a draft) would make for `facts` now.

    The same snapshot the router loads (reps' open leads, today's counts, rotation cursors), the
    same engine; under a version or a draft their rules, territories and reps replace the
    current ones, with the live counters of the reps they share. Writes nothing (read-only on
    PostgreSQL, always rolled back).
    """
    now = now or timezone.now()
    with _read_only():
        snapshot, _ = routing_snapshot_load(now=now, leads=[facts])
        names = {r.id: r.name for r in snapshot.rules}
        emails = dict(Rep.objects.values_list("id", "email"))
        if version is not None or draft is not None:
            setup = _setup(draft, version)
            for rep in setup.reps.values():
                live = snapshot.reps.get(rep.id)
                if live is not None:
                    rep.open_leads, rep.assigned_today = live.open_leads, live.assigned_today
                    rep.last_assigned_at, rep.conversion_rate = live.last_assigned_at, live.conversion_rate
            snapshot.rules, snapshot.territories, snapshot.reps = setup.rules, setup.territories, setup.reps
            snapshot.settings.existing_owner_first = setup.existing_owner_first
            names, emails = setup.rule_name, {**emails, **setup.rep_email}
        decision = RoutingEngine(snapshot).decide(facts)
        rep = snapshot.reps.get(decision.rep_id) if decision.rep_id else None
        return LeadTrial(
            outcome=decision.outcome,
            rep_email=emails.get(decision.rep_id) if rep else None,
            rep_name=rep.name if rep else None,
            rule_name=names.get(decision.rule_id),
            reason=decision.reason,
        )


def rep_labels(emails) -> dict[str, str]:
    """What ops call each rep of a result, keyed by the e-mail the contract's result uses: the name, with
    the e-mail only where two reps share a name; a rep only in a draft (or deleted since) keeps the e-mail."""
    names = dict(Rep.objects.filter(email__in=set(emails)).values_list("email", "name"))
    counts = Counter(names.values())
    return {
        email: (names[email] if counts[names[email]] == 1 else f"{names[email]} ({email})") if email in names else email
        for email in emails
    }


def simulation_figure(result: dict, labels: dict[str, str] | None = None) -> dict:
    """Per rep, actual next to simulated first decisions: a plotly figure as a plain dict."""
    labels = labels or {}
    names = [labels.get(r["email"], r["email"]) for r in result["reps"]]
    bars = [
        {"type": "bar", "name": name, "x": names, "y": [r[key] for r in result["reps"]], "marker": {"color": color}}
        for name, key, color in (("actual", "actual", "#9aa9b8"), ("simulated", "simulated", "#2f6fb0"))
    ]
    layout = {
        "barmode": "group",
        "height": 340,
        "margin": {"l": 50, "r": 20, "t": 10, "b": 120},
        "xaxis": {"automargin": True},
        "yaxis": {"title": {"text": "leads"}},
        "font": {"family": "system-ui, sans-serif", "size": 12},
    }
    return {"data": bars, "layout": layout}
