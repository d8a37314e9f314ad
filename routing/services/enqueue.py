"""Hand leads to the routing queue after the transaction that stored them commits."""
from __future__ import annotations

import logging
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


def leads_enqueue_routing(lead_ids: Iterable[int]) -> None:
    """Route these leads in the background once the current transaction commits.

    Never fails the caller: when Redis is down the leads stay pending and `route_pending`
    picks them up after its grace period. Outside a transaction it enqueues at once.
    """
    ids = sorted({int(i) for i in lead_ids})
    if ids:
        transaction.on_commit(partial(_enqueue, ids))


def _enqueue(ids: list[int]) -> None:
    from routing.jobs import route_leads_job

    size = settings.ROUTING_BATCH_SIZE
    try:
        # "auto": we are already past the commit; django-rq must not defer again.
        queue = django_rq.get_queue(ROUTING_QUEUE, commit_mode="auto")
        for start in range(0, len(ids), size):
            queue.enqueue(route_leads_job, ids[start:start + size], retry=ROUTING_RETRY,
                          job_timeout=JOB_TIMEOUT)
    except Exception:  # noqa: BLE001 — Redis down or an inline job failing: the sweep catches up
        logger.exception("Could not enqueue routing for %d leads; route_pending will route them", len(ids))
