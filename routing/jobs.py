"""RQ jobs: take ids, call one service, safe to run twice (the services check state first)."""

from __future__ import annotations

import datetime as dt
import time

from django.conf import settings
from rq import get_current_job

from routing.services import (
    RouteResult,
    leads_enqueue_routing,
    leads_route,
    leads_route_pending,
    rep_redistribute_open_leads,
)
from routing.simulation import simulation_outcome

# A backlog job hands over to a fresh job after this long (well inside its job timeout).
BACKLOG_JOB_SECONDS = 120


def route_leads_job(lead_ids: list[int]) -> dict:
    """Route a batch, and the backlog of other pending leads with it (one job drains what
    the jobs queued behind it were enqueued for; those then return at once).

    Leads already routed (a retry, a duplicate job, an earlier job's backlog) are skipped.
    """
    return leads_route(lead_ids=lead_ids, backlog=True).as_dict()


def route_backlog_job(lead_ids: list[int]) -> dict:
    """The job of a coalesced burst (routing/services/enqueue.py): its own leads, then the
    pending backlog, batch after batch, until a batch comes back short of full.

    Leads that committed while this job waited in the queue were not given a job of their
    own: this loop routes them. After BACKLOG_JOB_SECONDS it hands the rest to a new job.
    """
    size = settings.ROUTING_BATCH_SIZE
    full = size * max(1, -(-len(lead_ids) // size))  # each batch of ids is filled up to `size`
    deadline = time.monotonic() + BACKLOG_JOB_SECONDS
    result = RouteResult()
    while True:
        # The same ids again: they are routed now (skipped at once), so every batch is backlog.
        batch = leads_route(lead_ids=lead_ids, backlog=True)
        result.add(batch)
        if batch.assigned + batch.pooled + batch.unroutable + batch.unchanged + len(batch.failed) < full:
            break
        if time.monotonic() > deadline:
            leads_enqueue_routing(lead_ids, coalesce=True)
            break
    return result.as_dict()


def route_pending_job() -> dict:
    """The scheduled sweep (see routing/cron.py)."""
    return leads_route_pending().as_dict()


def watch_sla_job() -> dict:
    """The scheduled SLA pass (see routing/cron.py)."""
    from routing.services.sla import sla_watch

    return sla_watch().as_dict()


def rep_redistribute_job(rep_id: int, since_iso: str | None = None) -> list[int]:
    """Leads assigned to a just-deactivated rep at or after `since_iso` go on to others (safe twice)."""
    since = dt.datetime.fromisoformat(since_iso) if since_iso else None
    return rep_redistribute_open_leads(rep_id=rep_id, since=since)


def simulate_routing_job(params: dict) -> dict:
    """A big simulation for the admin page: progress (leads replayed of the total) in the job's
    meta as it goes, the page's outcome as the return value (routing/simulation.py)."""
    job = get_current_job()

    def progress(done: int, total: int) -> None:
        if job is not None:
            job.meta.update(done=done, total=total)
            job.save_meta()

    return simulation_outcome(params, progress=progress)
