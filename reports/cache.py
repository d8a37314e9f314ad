"""A report's figures shared for a short while by the managers who ask for the same filters.

Twenty managers opening the same report at once would each run the same queries, and on two cores
twenty × the CPU of one view cannot finish quickly (README, Benchmarks). So the first view computes
them and the others wait for its result instead of computing them again (single flight, through
the configured cache: across gunicorn workers when it is Redis), and the views that follow within
REPORT_CACHE_SECONDS reuse it. The page says when its figures were computed ("Figures as of 14:05").
0 turns the sharing off: every view computes its own.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import time
from collections.abc import Callable
from typing import TypeVar

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

T = TypeVar("T")
VERSION = 1  # bump when what is stored changes shape, so a deploy never reads the old shape
WAIT_SECONDS = 60  # the longest a view waits for another's computation before it computes itself
POLL_SECONDS = 0.05


def figures_key(kind: str, filters: dict) -> str:
    """The cache key of `kind` figures for these filter values (the sort is applied after, so not in it)."""
    text = "&".join(f"{name}={filters[name]}" for name in sorted(filters))
    return f"reports:{kind}:v{VERSION}:{hashlib.sha256(text.encode()).hexdigest()[:32]}"


def figures_shared(key: str, compute: Callable[[], T]) -> tuple[T, dt.datetime]:
    """(figures, when they were computed): from the cache, from a computation another view is running
    for the same key (waited for), or computed here and stored for REPORT_CACHE_SECONDS."""
    seconds = settings.REPORT_CACHE_SECONDS
    if seconds <= 0:
        as_of = timezone.now()
        return compute(), as_of
    lock, deadline = f"{key}:computing", time.monotonic() + WAIT_SECONDS
    while True:
        found = cache.get(key)
        if found is not None:
            return found
        if cache.add(lock, 1, timeout=WAIT_SECONDS):
            try:
                # Another view may have stored the figures and let go of the lock between our look above
                # and taking the lock: look again rather than compute a second time.
                found = cache.get(key)
                if found is not None:
                    return found
                as_of = timezone.now()  # the figures read the database as it was when their queries began
                computed = (compute(), as_of)
                cache.set(key, computed, timeout=seconds)
                return computed
            finally:
                cache.delete(lock)
        if time.monotonic() > deadline:  # the other view is stuck: do not wait for ever
            as_of = timezone.now()
            return compute(), as_of
        time.sleep(POLL_SECONDS)


def figures_cached(key: str):
    """(figures, when) when they are in the cache now, else None (never computes)."""
    if settings.REPORT_CACHE_SECONDS <= 0:
        return None
    return cache.get(key)
