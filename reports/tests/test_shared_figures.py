"""Managers asking for the same report at about the same time share one computation of its figures."""

import threading
import uuid

import pytest
from django.core.cache import cache
from django.db import connections

from reports import cache as report_cache
from reports.tests.helpers import assign, at, manager
from reps.tests.factories import RepFactory

pytestmark = pytest.mark.django_db

MARCH = "?start=2026-03-01&end=2026-03-31"


@pytest.fixture
def shared(settings, monkeypatch):
    settings.REPORT_CACHE_SECONDS = 60
    # Keys of this test only: the cache (Redis in the Postgres run) outlives a test's database.
    monkeypatch.setattr(report_cache, "VERSION", f"test-{uuid.uuid4().hex}")


def test_a_second_view_within_the_minute_shows_the_same_figures_and_says_when_they_were_computed(client, shared):
    ana = RepFactory(name="Ana")
    assign(ana, at(3))
    client.force_login(manager())
    first = client.get("/reports/" + MARCH)
    assign(ana, at(4))  # after the figures were computed
    second = client.get("/reports/" + MARCH)
    assert first.context["report"].total.assigned == second.context["report"].total.assigned == 1
    as_of = first.context["as_of"]
    assert second.context["as_of"] == as_of
    assert f"Figures as of {as_of:%H:%M}" in second.content.decode()
    # The CSV says what the page says; another period is computed afresh.
    assert client.get("/reports/reps.csv" + MARCH).content.decode().splitlines()[-1].split(",")[3] == "1"
    assert client.get("/reports/?start=2026-03-01&end=2026-03-30").context["report"].total.assigned == 2


def test_without_sharing_every_view_computes_its_figures(client, settings):
    settings.REPORT_CACHE_SECONDS = 0
    ana = RepFactory(name="Ana")
    assign(ana, at(3))
    client.force_login(manager())
    assert client.get("/reports/" + MARCH).context["report"].total.assigned == 1
    assign(ana, at(4))
    assert client.get("/reports/" + MARCH).context["report"].total.assigned == 2


def test_views_that_miss_at_the_same_moment_compute_the_figures_once(shared):
    """Eight views miss together: one computes, the others wait for its result (no second computation)."""
    key, computed, started = f"reports:test:{uuid.uuid4().hex}", [], threading.Barrier(8)
    results = []

    def compute():
        computed.append(1)
        threading.Event().wait(0.3)  # a computation that takes a while
        return {"figures": len(computed)}

    def view():
        started.wait()
        try:
            results.append(report_cache.figures_shared(key, compute))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=view) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(computed) == 1
    assert len(results) == 8 and all(result == results[0] for result in results)


def test_a_failed_computation_lets_a_waiting_view_compute(shared):
    key, calls = f"reports:test:{uuid.uuid4().hex}", []

    def fails():
        calls.append("failed")
        raise RuntimeError("database went away")

    with pytest.raises(RuntimeError):
        report_cache.figures_shared(key, fails)
    assert cache.get(f"{key}:computing") is None  # the next view is not kept waiting
    figures, _ = report_cache.figures_shared(key, lambda: "computed")
    assert figures == "computed"
