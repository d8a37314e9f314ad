"""Intake hands a burst of leads to one routing job, and no lead is left unrouted by it (real Redis and RQ).

A lead committed while a routing job waits in the queue is routed by that job; a job that a
worker has taken, or that was lost, no longer counts, so the next lead enqueues a new one.
"""

import django_rq
import pytest
from django.core.management import call_command
from rq import SimpleWorker
from rq.job import Job

from leadops.models import Lead
from leadops.tests.conftest import client_for
from leadops.tests.factories import IntegrationFactory
from reps.tests.factories import RepFactory, TeamFactory
from routing.tests.factories import RuleFactory

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def queue():
    queue = django_rq.get_queue("routing")
    queue.empty()  # jobs other tests left for leads that are gone
    yield queue
    queue.empty()


@pytest.fixture
def api():
    team = TeamFactory()
    for _ in range(3):
        RepFactory(team=team, capacity=1000, daily_cap=1000)
    RuleFactory(pool_team=team)
    return client_for(IntegrationFactory())


def post(api, n: int) -> int:
    response = api.post("/api/leads/", {"external_id": f"J-{n}", "email": f"buyer{n}@example.com"}, format="json")
    assert response.status_code == 201
    return response.json()["id"]


def work_off(queue) -> None:
    """A worker in this process (it sees this test's database) runs every queued job."""
    SimpleWorker([queue], connection=queue.connection).work(burst=True)


def statuses(ids) -> list[str]:
    found = dict(Lead.objects.filter(id__in=ids).values_list("id", "status"))
    return [found[i] for i in ids]


def test_leads_posted_while_a_routing_job_waits_ride_on_it_and_all_get_assigned(api, queue):
    ids = [post(api, 1)]
    assert queue.count == 1
    ids += [post(api, n) for n in range(2, 6)]
    assert queue.count == 1  # one job for the burst, not one per lead
    work_off(queue)
    assert statuses(ids) == ["assigned"] * 5


def test_a_backlog_bigger_than_a_batch_is_routed_by_the_one_job(api, queue, settings):
    settings.ROUTING_BATCH_SIZE = 2
    ids = [post(api, n) for n in range(7)]
    assert queue.count == 1
    work_off(queue)
    assert statuses(ids) == ["assigned"] * 7


def test_a_lead_posted_after_a_worker_took_the_job_gets_a_job_of_its_own(api, queue):
    first = post(api, 1)
    taken = Job.fetch(queue.pop_job_id(), connection=queue.connection)  # a worker dequeued it, not run yet
    second = post(api, 2)
    assert queue.count == 1
    taken.perform()
    work_off(queue)
    assert statuses([first, second]) == ["assigned", "assigned"]


def test_a_lead_posted_after_the_waiting_job_was_lost_gets_a_new_job_and_the_sweep_routes_the_first(api, queue):
    first = post(api, 1)
    queue.empty()  # the job is lost (Redis flushed, `rq empty`, …)
    second = post(api, 2)
    assert queue.count == 1
    work_off(queue)  # the new job takes the backlog too
    assert statuses([first, second]) == ["assigned", "assigned"]


def test_a_lost_job_with_nothing_posted_after_it_is_made_good_by_route_pending(api, queue):
    lead = post(api, 1)
    queue.empty()
    call_command("route_pending", "--all", stdout=open("/dev/null", "w"))
    assert statuses([lead]) == ["assigned"]


def test_a_post_is_stored_when_redis_refuses_the_routing_job(api, queue, monkeypatch):
    import redis
    from rq import Queue

    dead = Queue("routing", connection=redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=1))
    monkeypatch.setattr("routing.services.enqueue._routing_queue", lambda: dead)
    lead = post(api, 1)
    assert statuses([lead]) == ["pending"]
    call_command("route_pending", "--all", stdout=open("/dev/null", "w"))
    assert statuses([lead]) == ["assigned"]
