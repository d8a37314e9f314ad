"""A long period's report read on two connections at once (selectors.side_by_side, page.two_connections): the
same figures as on one, of one moment, whatever a writer commits meanwhile."""

import threading

import psycopg
import pytest
from django.db import connection, connections
from django.db.backends.signals import connection_created

from reports import page, rollups, selectors
from reports.models import RollupState
from reports.tests.helpers import report_filter
from reps.models import Team
from reps.tests.factories import TeamFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

MARCH = {"start": "2026-03-01", "end": "2026-03-31"}


@pytest.fixture
def threads_opening_connections():
    """The names of the threads that open a database connection while the test runs."""
    opened: list[str] = []

    def note(sender, connection, **kwargs):
        opened.append(threading.current_thread().name)

    connection_created.connect(note)
    yield opened
    connection_created.disconnect(note)


def other_connection() -> psycopg.Connection:
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    return psycopg.connect(**params, autocommit=True)


def test_the_second_connection_reads_the_first_ones_snapshot(threads_opening_connections):
    """A team deleted and committed by a third connection after the report began is still there for both of the
    report's connections: they read one moment. Without the shared snapshot the second would miss it."""
    TeamFactory(name="EMEA")

    def teams_here():
        return list(Team.objects.values_list("name", flat=True))

    def teams_beside():
        with other_connection() as writer:
            writer.execute("DELETE FROM reps_team")
        return list(Team.objects.values_list("name", flat=True)), threading.current_thread().name

    figures = selectors.side_by_side({"here": teams_here}, {"beside": teams_beside})
    beside, thread = figures["beside"]
    assert thread.startswith("report-beside")
    assert threads_opening_connections.count(thread) == 1
    assert figures["here"] == beside == ["EMEA"]
    assert not Team.objects.exists()  # the delete was committed: a new transaction no longer sees the team


def test_a_failure_on_the_second_connection_reaches_the_page():
    def fails():
        raise RuntimeError("the query failed")

    with pytest.raises(RuntimeError, match="the query failed"):
        selectors.side_by_side({"here": lambda: 1}, {"beside": fails})


def test_a_long_period_is_read_on_two_connections_with_the_same_figures(
    sla_march, settings, threads_opening_connections
):
    """The whole page and its CSV, with the rollups folded and not: on two connections when the period is long
    enough, on one otherwise, and the same figures either way, the medians split off included."""
    RollupState.objects.all().delete()
    RollupState.objects.create(time_zone=settings.TIME_ZONE)
    ana, ben = sla_march
    for folded in (False, True):
        if folded:
            assert rollups.rollups_fold() > 0
        settings.REPORT_SECOND_CONNECTION_DAYS = 0
        one = page.page_figures(report_filter(**MARCH))
        csv_one = page.rep_report_csv(filters=report_filter(**MARCH), sort="name")
        assert not any(name.startswith("report-beside") for name in threads_opening_connections)
        settings.REPORT_SECOND_CONNECTION_DAYS = 31  # March is 31 days long
        assert page.two_connections(report_filter(**MARCH))
        two = page.page_figures(report_filter(**MARCH))
        csv_two = page.rep_report_csv(filters=report_filter(**MARCH), sort="name")
        assert sum(name.startswith("report-beside") for name in threads_opening_connections) == 2
        threads_opening_connections.clear()
        assert two == one
        assert csv_two == csv_one
        # Contacted in March: Ana after 10 and 45 minutes, Ben after 5 (Ana's 28 February lead counts in February).
        medians = {row.name: row.median_speed for row in two["report"].rows}
        assert (medians["Ana"], medians["Ben"], two["report"].total.median_speed) == (1650.0, 300.0, 600.0)
        assert (two["sla"].due, two["sla"].breaches) == (6, 2)  # due in March: 4 met, 2 breached
        assert "medians" not in two


def test_a_refused_second_connection_reads_everything_on_the_first(
    sla_march, settings, monkeypatch, threads_opening_connections, caplog
):
    """Postgres at max_connections refuses the second connection: the page still shows the one-connection
    figures (read in the first connection's snapshot), with a warning in the log instead of an error page."""
    settings.REPORT_SECOND_CONNECTION_DAYS = 0
    one = page.page_figures(report_filter(**MARCH))
    wrapper = type(connections["default"])
    original = wrapper.get_new_connection

    def refuse_in_the_report_thread(self, params):
        if threading.current_thread().name.startswith("report-beside"):
            raise psycopg.OperationalError("FATAL:  sorry, too many clients already")
        return original(self, params)

    monkeypatch.setattr(wrapper, "get_new_connection", refuse_in_the_report_thread)
    settings.REPORT_SECOND_CONNECTION_DAYS = 31
    assert page.two_connections(report_filter(**MARCH))
    two = page.page_figures(report_filter(**MARCH))
    assert two == one
    medians = {row.name: row.median_speed for row in two["report"].rows}
    assert (medians["Ana"], medians["Ben"], two["report"].total.median_speed) == (1650.0, 300.0, 600.0)
    assert not any(name.startswith("report-beside") for name in threads_opening_connections)
    assert "second database connection was refused" in caplog.text


def test_a_short_period_stays_on_one_connection(settings):
    settings.REPORT_SECOND_CONNECTION_DAYS = 32
    assert not page.two_connections(report_filter(**MARCH))
    settings.REPORT_SECOND_CONNECTION_DAYS = 0
    assert not page.two_connections(report_filter(start="2025-01-01", end="2026-03-31"))
