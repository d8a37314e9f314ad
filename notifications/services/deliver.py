"""Send deliveries: claim due rows, render them, POST them (one thread per channel), record the answers.

- Claiming marks rows `sending` with a lease, in a short transaction; no transaction is held
  while a receiver is called. Two jobs never send the same delivery; a worker killed
  mid-send leaves the lease to expire and the sweep sends the delivery again (at least once;
  every attempt carries the same delivery id so a receiver can drop repeats).
- A 2xx marks the delivery `sent`; nothing sends a `sent` delivery again.
- Anything else (connection error, no answer within 5 s, a non-2xx, a redirect: redirects are
  not followed) counts an attempt and schedules the next one after a growing back-off; after
  MAX_ATTEMPTS the delivery is `failed` with the last answer. Ops can send it again (admin).
- Each channel gets threads of its own (up to CHANNEL_CONCURRENCY requests in flight on the
  pooled client): a slow or dead receiver delays only its own deliveries. After a receiver
  fails to answer, its deliveries not yet started in this run are not tried (they count an
  attempt with the reason), so a dead receiver costs one timeout per run, not one per delivery.
  A channel's deliveries are started in order, several at a time: a receiver orders by `at`.
- E-mails go through Django's e-mail settings, one message each.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import queue
import threading
import time
from collections import defaultdict
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import httpx
from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from notifications.models import Delivery
from notifications.services.render import Rendered, deliveries_render

logger = logging.getLogger(__name__)
logging.getLogger("httpx").setLevel(logging.WARNING)  # not a log line per delivery; answers are on the rows

TIMEOUT_SECONDS = 5.0
# Waits after attempts 1..5: 6 attempts over 32.5 minutes, then `failed`.
BACKOFF_SECONDS = (30, 120, 300, 600, 900)
MAX_ATTEMPTS = len(BACKOFF_SECONDS) + 1
LEASE = dt.timedelta(minutes=15)
BATCH = 500
CHANNEL_BUDGET_SECONDS = 60  # one channel's share of a run; the rest goes back to the queue
CHANNEL_CONCURRENCY = 8  # requests in flight to one receiver
ANSWER_CHARS = 500
RECORD_EVERY = 50  # answers written per statement while a run goes on
RECORD_SECONDS = 0.2

_clients: dict[int, httpx.Client] = {}
_clients_lock = threading.Lock()


def http_client() -> httpx.Client:
    """One pooled client per process (keyed by pid: a forked work horse never shares sockets)."""
    pid = os.getpid()
    with _clients_lock:
        client = _clients.get(pid)
        if client is None:
            client = _clients[pid] = httpx.Client(
                timeout=TIMEOUT_SECONDS,
                follow_redirects=False,
                limits=httpx.Limits(max_connections=64, max_keepalive_connections=64),
                headers={"User-Agent": "LeadOps-Webhook/1"},
            )
        return client


@dataclass
class SendResult:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    deferred: list[str] = field(default_factory=list)  # over a channel's time budget: back in the queue
    retry_at: dict[str, dt.datetime] = field(default_factory=dict)

    @property
    def claimed(self) -> int:
        return self.sent + self.retrying + self.failed + len(self.deferred)

    def add(self, other: SendResult) -> None:
        self.sent, self.retrying, self.failed = (
            self.sent + other.sent,
            self.retrying + other.retrying,
            self.failed + other.failed,
        )
        self.deferred += other.deferred
        self.retry_at.update(other.retry_at)

    def as_dict(self) -> dict:
        return {"sent": self.sent, "retrying": self.retrying, "failed": self.failed, "deferred": len(self.deferred)}


def _claim(ids: list[str] | None, due_before: dt.datetime, now: dt.datetime, limit: int) -> list[Delivery]:
    with transaction.atomic():
        due = Delivery.objects.select_for_update(skip_locked=True).due(due_before)
        if ids is not None:
            due = due.filter(id__in=ids)
        claimed = list(due.order_by("next_attempt_at").values_list("id", flat=True)[:limit])
        if not claimed:
            return []
        Delivery.objects.filter(id__in=claimed).update(status=Delivery.Status.SENDING, lease_until=now + LEASE)
    return list(Delivery.objects.filter(id__in=claimed).select_related("channel", "rep"))


def deliveries_send(
    *, delivery_ids: Iterable | None = None, now: dt.datetime | None = None, due_before: dt.datetime | None = None
) -> SendResult:
    """Send the given deliveries that are due (or, with no ids, any due before `due_before`), up to BATCH."""
    now = now or timezone.now()
    ids = None if delivery_ids is None else [str(i) for i in delivery_ids]
    deliveries = _claim(ids, due_before or now, now, BATCH)
    result = SendResult()
    if not deliveries:
        return result
    rendered = deliveries_render(deliveries)
    by_channel = defaultdict(list)
    mails = []
    for delivery in deliveries:
        (by_channel[delivery.channel_id] if delivery.channel_id else mails).append(delivery)
    answers: queue.SimpleQueue = queue.SimpleQueue()
    runs = [_ChannelRun(items, rendered, answers) for items in by_channel.values()]
    threads = [run.post_next for run in runs for _ in range(min(CHANNEL_CONCURRENCY, len(run.items)))]
    with ThreadPoolExecutor(max_workers=len(threads) + 1) as pool:
        futures = [pool.submit(thread) for thread in threads]
        if mails:
            futures.append(pool.submit(_send_mails, mails, rendered, answers))
        _record_as_answered(deliveries, answers, futures, now, result)
    return result


def _record_as_answered(deliveries: list[Delivery], answers: queue.SimpleQueue, futures, now, result) -> None:
    """Write answers as they come (every RECORD_EVERY answers or RECORD_SECONDS), not at the end: a
    worker killed mid-run then re-sends only the deliveries answered since the last write."""
    by_id = {d.id: d for d in deliveries}
    got: dict = {}
    last = time.monotonic()
    while by_id:
        try:
            delivery_id, ok, answer = answers.get(timeout=RECORD_SECONDS)
            got[delivery_id] = (ok, answer)
        except queue.Empty:
            if all(f.done() for f in futures) and answers.empty():
                for future in futures:
                    future.result()  # a thread that died: its error surfaces here
                got.update({i: (False, "Not sent: the sender stopped") for i in by_id if i not in got})
        if got and (len(got) >= RECORD_EVERY or time.monotonic() - last >= RECORD_SECONDS or len(got) == len(by_id)):
            _record([by_id.pop(i) for i in got], got, now, result)
            got, last = {}, time.monotonic()


class _ChannelRun:
    """One channel's deliveries of a run, taken in order by up to CHANNEL_CONCURRENCY threads
    (`post_next` each); puts (id, ok | None for deferred, answer) on the recording queue."""

    def __init__(self, items: list[Delivery], rendered: dict, out: queue.SimpleQueue):
        self.items, self.rendered, self.answers = items, rendered, _Answers(out)
        self.lock = threading.Lock()
        self.next = 0
        self.down = ""
        self.started = time.monotonic()

    def _take(self) -> Delivery | None:
        with self.lock:
            if self.next >= len(self.items):
                return None
            self.next += 1
            return self.items[self.next - 1]

    def post_next(self) -> None:
        client = http_client()
        while (delivery := self._take()) is not None:
            if self.down:
                self.answers[delivery.id] = (False, f"Not tried: {self.down}")
            elif time.monotonic() - self.started > CHANNEL_BUDGET_SECONDS:
                self.answers[delivery.id] = (None, "")
            else:
                self.answers[delivery.id] = self._post(client, delivery)

    def _post(self, client: httpx.Client, delivery: Delivery) -> tuple[bool, str]:
        message: Rendered = self.rendered[delivery.id]
        channel = delivery.channel
        try:
            response = client.post(channel.url, content=message.body, headers=message.headers)
        except httpx.TimeoutException:
            self.down = f"{channel.name} did not answer within {TIMEOUT_SECONDS:g} s"
            return False, f"No answer within {TIMEOUT_SECONDS:g} s"
        except httpx.HTTPError as exc:
            self.down = f"{channel.name} could not be reached ({type(exc).__name__})"
            return False, f"{type(exc).__name__}: {exc}"[:ANSWER_CHARS]
        text = response.text[:ANSWER_CHARS]
        return 200 <= response.status_code < 300, f"HTTP {response.status_code} {text}".strip()


class _Answers:
    """`answers[id] = (ok, text)` puts the answer on the queue the main thread records from."""

    def __init__(self, out: queue.SimpleQueue):
        self.out = out

    def __setitem__(self, delivery_id, value) -> None:
        self.out.put((delivery_id, *value))


def _send_mails(items: list[Delivery], rendered: dict, out: queue.SimpleQueue) -> None:
    answers = _Answers(out)
    try:
        mail_connection = get_connection()
        mail_connection.open()
    except Exception as exc:  # the mail server is down: every message waits for its next attempt
        for d in items:
            answers[d.id] = (False, f"{type(exc).__name__}: {exc}"[:ANSWER_CHARS])
        return
    try:
        for delivery in items:
            message: Rendered = rendered[delivery.id]
            try:
                EmailMessage(
                    message.subject,
                    message.body.decode(),
                    settings.DEFAULT_FROM_EMAIL,
                    [delivery.email],
                    connection=mail_connection,
                ).send()
                answers[delivery.id] = (True, "Handed to the mail server")
            except Exception as exc:
                answers[delivery.id] = (False, f"{type(exc).__name__}: {exc}"[:ANSWER_CHARS])
    finally:
        mail_connection.close()


def _record(deliveries: list[Delivery], answers: dict, now: dt.datetime, result: SendResult) -> None:
    for delivery in deliveries:
        ok, answer = answers.get(delivery.id, (False, "Not rendered"))
        delivery.lease_until = None
        if ok is None:  # over the channel's budget: not tried, back in the queue as it was
            delivery.status = Delivery.Status.PENDING
            result.deferred.append(str(delivery.id))
            continue
        delivery.attempts += 1
        delivery.last_answer, delivery.last_attempt_at = answer, now
        if ok:
            delivery.status, delivery.sent_at = Delivery.Status.SENT, now
            result.sent += 1
        elif delivery.attempts >= MAX_ATTEMPTS:
            delivery.status = Delivery.Status.FAILED
            result.failed += 1
        else:
            delivery.status = Delivery.Status.PENDING
            delivery.next_attempt_at = now + dt.timedelta(seconds=BACKOFF_SECONDS[delivery.attempts - 1])
            result.retrying += 1
            result.retry_at[str(delivery.id)] = delivery.next_attempt_at
    _save_answers(deliveries)


ANSWER_FIELDS = ("status", "attempts", "next_attempt_at", "last_answer", "last_attempt_at", "sent_at")


def _save_answers(deliveries: list[Delivery]) -> None:
    """One UPDATE … FROM unnest on Postgres (bulk_update's CASE per row and field costs more than
    the sending); the lease is cleared on every row written."""
    if connection.vendor != "postgresql":
        Delivery.objects.bulk_update(deliveries, [*ANSWER_FIELDS, "lease_until"])
        return
    table = connection.ops.quote_name(Delivery._meta.db_table)
    sql = (
        f"UPDATE {table} AS d SET status = v.status, attempts = v.attempts, next_attempt_at = v.next_attempt_at, "
        f"last_answer = v.last_answer, last_attempt_at = v.last_attempt_at, sent_at = v.sent_at, lease_until = NULL "
        f"FROM unnest(%s::uuid[], %s::varchar[], %s::smallint[], %s::timestamptz[], %s::text[], "
        f"%s::timestamptz[], %s::timestamptz[]) AS v(id, {', '.join(ANSWER_FIELDS)}) WHERE d.id = v.id"
    )
    columns = [[d.id for d in deliveries]] + [[getattr(d, name) for d in deliveries] for name in ANSWER_FIELDS]
    with connection.cursor() as cursor:
        cursor.execute(sql, columns)


def deliveries_sweep(*, now: dt.datetime | None = None, grace_seconds: int = 60) -> SendResult:
    """The safety net (cron, every minute): send deliveries whose job was lost.

    Deliveries due for longer than the grace period, and deliveries whose sender died
    (lease expired), are sent here, batch after batch.
    """
    now = now or timezone.now()
    Delivery.objects.filter(status=Delivery.Status.SENDING, lease_until__lt=now).update(
        status=Delivery.Status.PENDING, lease_until=None
    )
    total = SendResult()
    cutoff = now - dt.timedelta(seconds=grace_seconds)
    while True:
        batch = deliveries_send(now=now, due_before=cutoff)
        total.add(batch)
        if batch.claimed < BATCH or batch.deferred:
            return total


def deliveries_resend(*, delivery_ids: Iterable) -> int:
    """Ops' "send again": failed or pending deliveries go back in the queue now, with fresh attempts.

    A `sent` delivery is never sent again.
    """
    now = timezone.now()
    ids = [str(i) for i in delivery_ids]
    with transaction.atomic():
        moved = list(
            Delivery.objects.filter(id__in=ids)
            .filter(Q(status=Delivery.Status.FAILED) | Q(status=Delivery.Status.PENDING))
            .values_list("id", "channel_id")
        )
        Delivery.objects.filter(id__in=[i for i, _ in moved]).update(
            status=Delivery.Status.PENDING, attempts=0, next_attempt_at=now
        )
        from notifications.jobs import enqueue_dispatch

        hooks = [str(i) for i, channel in moved if channel]
        mails = [str(i) for i, channel in moved if not channel]
        transaction.on_commit(lambda: enqueue_dispatch(hooks, mails))
    return len(moved)
