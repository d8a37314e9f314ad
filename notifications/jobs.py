"""RQ jobs of the outbox. They take delivery ids, call one service, and are safe to run twice
(a delivery is claimed before it is sent; a sent one is never claimed again).

- `deliveries_dispatch_job`: enqueued once per committed transaction that added deliveries.
  It sends the webhook deliveries itself (many per job, several requests in flight per
  channel, each channel on threads of its own) and gives every e-mail a job of its own
  (`deliveries_send_job` with one id), so a burst of 1,000 assignments costs routing one
  enqueue, not 1,000.
- Retries: the next attempt is written on the row (`next_attempt_at`) and a job is scheduled
  for it with RQ's `enqueue_in` (workers run `--with-scheduler`); if that job is lost the
  sweep (`deliveries_sweep_job`, every minute from routing.cron) sends it.

This module imports on its own (`import notifications.jobs` after django.setup()).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict

import django_rq
from django.utils import timezone

from notifications.services.deliver import BATCH, SendResult, deliveries_send, deliveries_sweep

logger = logging.getLogger(__name__)

QUEUE = "notifications"
JOB_TIMEOUT = 1800


def _queue():
    return django_rq.get_queue(QUEUE, commit_mode="auto")


def enqueue_dispatch(hook_ids: list[str], mail_ids: list[str]) -> None:
    """Called after commit. Never fails the caller: with Redis down the sweep sends them."""
    if not hook_ids and not mail_ids:
        return
    try:
        _queue().enqueue(deliveries_dispatch_job, hook_ids, mail_ids, job_timeout=JOB_TIMEOUT)
    except Exception:
        logger.exception("Could not enqueue %d deliveries; the sweep will send them", len(hook_ids) + len(mail_ids))


def _schedule(result: SendResult) -> None:
    """Jobs for the next attempts (grouped by time) and for deliveries deferred by a busy channel."""
    try:
        queue = _queue()
        if result.deferred:
            queue.enqueue(deliveries_send_job, result.deferred, job_timeout=JOB_TIMEOUT)
        if not queue.is_async:  # inline jobs: nothing waits; the sweep (cron) retries
            return
        by_time = defaultdict(list)
        for delivery_id, at in result.retry_at.items():
            by_time[at].append(delivery_id)
        now = timezone.now()
        for at, ids in sorted(by_time.items()):
            queue.enqueue_in(max(at - now, dt.timedelta(0)), deliveries_send_job, ids, job_timeout=JOB_TIMEOUT)
    except Exception:
        logger.exception("Could not schedule retries; the sweep will send them")


def _send(ids: list[str]) -> dict:
    total = SendResult()
    for start in range(0, len(ids), BATCH):
        result = deliveries_send(delivery_ids=ids[start : start + BATCH])
        _schedule(result)
        total.add(result)
    return total.as_dict()


def deliveries_dispatch_job(hook_ids: list[str], mail_ids: list[str]) -> dict:
    if mail_ids:
        try:
            queue = _queue()
            pipe = queue.connection.pipeline() if queue.is_async else None
            for mail_id in mail_ids:
                queue.enqueue(deliveries_send_job, [mail_id], job_timeout=JOB_TIMEOUT, pipeline=pipe)
            if pipe is not None:
                pipe.execute()
        except Exception:
            logger.exception("Could not enqueue %d e-mails; the sweep will send them", len(mail_ids))
    return _send(hook_ids)


def deliveries_send_job(delivery_ids: list[str]) -> dict:
    return _send(delivery_ids)


def deliveries_sweep_job() -> dict:
    result = deliveries_sweep()
    _schedule(result)
    return result.as_dict()
