"""Hand leads to the routing queue after the transaction that stored them commits.

Intake coalesces (`coalesce=True`): a burst of posts gets one routing job, not one per lead.
A routing job routes the oldest pending leads besides its own (the backlog), so a lead that
commits while a job is still *waiting in the queue* is routed by that job. After its commit
each writer runs one Redis script: when the job named in the flag key is still in the queue
list it does nothing; otherwise it names a new job in the flag and enqueues that job
(`route_backlog_job`, which drains the backlog batch after batch). A job a worker has taken,
a job lost with Redis or dropped by `rq empty`, is no longer in the list, so the next lead
enqueues a new one; a lead is never left waiting on a job that will not run. Two writers
racing past the check enqueue a job each, which is harmless: a job finds the leads routed
and returns. If Redis is down the lead stays pending and `route_pending` routes it.
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Iterable
from functools import partial

import django_rq
from django.conf import settings
from django.db import transaction
from rq import Retry

logger = logging.getLogger(__name__)

ROUTING_QUEUE = "routing"
# Database hiccups (a failover, a lock timeout) heal in seconds to minutes; after the last
# retry the lead is still pending and route_pending sweeps it.
ROUTING_RETRY = Retry(max=4, interval=[5, 30, 120, 600])
JOB_TIMEOUT = 600


_connections: dict[int, object] = {}
_scripts: dict[int, object] = {}

# The id of the last coalescing job enqueued. Its TTL only bounds the key's life: the flag
# counts only while its job is in the queue list.
COALESCE_KEY = "leadops:routing:backlog-job"
COALESCE_TTL = 3600
# KEYS: flag, queue list; ARGV: the new job's id, the TTL. 1: enqueue the new job; 0: the
# flagged job still waits in the queue and will route this commit's leads.
_COALESCE_SCRIPT = """
local waiting = redis.call('GET', KEYS[1])
if waiting and redis.call('LPOS', KEYS[2], waiting) then
  return 0
end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
return 1
"""


def _routing_queue():
    """The routing queue on one Redis connection per process: django-rq's `get_queue` alone
    opens a new connection pool, so a new TCP connection, on every call. Keyed by pid, so a
    forked child (an rq work horse, a gunicorn worker) never shares its parent's sockets."""
    pid = os.getpid()
    redis_connection = _connections.get(pid)
    if redis_connection is None:
        redis_connection = _connections[pid] = django_rq.get_connection(ROUTING_QUEUE)
    # "auto": we are already past the commit; django-rq must not defer again.
    return django_rq.get_queue(ROUTING_QUEUE, commit_mode="auto", connection=redis_connection)


def leads_enqueue_routing(lead_ids: Iterable[int], *, coalesce: bool = False) -> None:
    """Route these leads in the background once the current transaction commits.

    coalesce: new pending leads (intake) ride on the routing job already waiting in the
    queue, if there is one (see the module's docstring); one job per burst instead of one
    per lead. Leads being sent back to routing keep a job of their own.

    Never fails the caller: when Redis is down the leads stay pending and `route_pending`
    picks them up after its grace period. Outside a transaction it enqueues at once.
    """
    ids = sorted({int(i) for i in lead_ids})
    if ids:
        transaction.on_commit(partial(_enqueue_coalesced if coalesce else _enqueue, ids))


def _enqueue(ids: list[int]) -> None:
    from routing.jobs import route_leads_job

    size = settings.ROUTING_BATCH_SIZE
    try:
        queue = _routing_queue()
        # One round trip for all the batches (rq's own enqueue sends two); inline queues run
        # each job as it is enqueued, so they get no pipeline.
        pipe = queue.connection.pipeline() if queue.is_async else None
        for start in range(0, len(ids), size):
            queue.enqueue(
                route_leads_job, ids[start : start + size], retry=ROUTING_RETRY, job_timeout=JOB_TIMEOUT, pipeline=pipe
            )
        if pipe is not None:
            pipe.execute()
    except Exception:
        logger.exception("Could not enqueue routing for %d leads; route_pending will route them", len(ids))


def _enqueue_coalesced(ids: list[int]) -> None:
    from routing.jobs import route_backlog_job

    try:
        queue = _routing_queue()
        if not queue.is_async:  # inline jobs route at once: nothing to coalesce
            return _enqueue(ids)
        job_id = uuid.uuid4().hex
        if _coalesce_script(queue.connection)(keys=[COALESCE_KEY, queue.key], args=[job_id, COALESCE_TTL]):
            queue.enqueue(route_backlog_job, ids, job_id=job_id, retry=ROUTING_RETRY, job_timeout=JOB_TIMEOUT)
    except Exception:
        logger.exception("Could not enqueue routing for %d leads; route_pending will route them", len(ids))


def _coalesce_script(redis_connection):
    pid = os.getpid()
    script = _scripts.get(pid)
    if script is None or script.registered_client is not redis_connection:
        script = _scripts[pid] = redis_connection.register_script(_COALESCE_SCRIPT)
    return script


def rep_enqueue_redistribution(rep_id: int, *, since=None, delay_seconds: int = 5) -> None:
    """After commit, a few seconds later, send on the rep's open leads assigned at or after `since`.

    A worker that read the rep as active just before the change may still commit a lead to
    them; this second pass sends such a lead on (leads the rep held before `since` stay as ops chose).
    """
    since_iso = since.isoformat() if since is not None else None
    transaction.on_commit(partial(_enqueue_redistribution, rep_id, delay_seconds, since_iso))


def _enqueue_redistribution(rep_id: int, delay_seconds: int, since_iso: str | None = None) -> None:
    from datetime import timedelta

    from routing.jobs import rep_redistribute_job

    try:
        queue = _routing_queue()
        if queue.is_async:
            queue.enqueue_in(
                timedelta(seconds=delay_seconds),
                rep_redistribute_job,
                rep_id,
                since_iso,
                retry=ROUTING_RETRY,
                job_timeout=JOB_TIMEOUT,
            )
        else:  # inline jobs: nothing else is routing in this process, once is enough
            queue.enqueue(rep_redistribute_job, rep_id, since_iso)
    except Exception:
        logger.exception("Could not enqueue redistribution for rep %s; route_pending will do it", rep_id)
