"""Big simulations on the admin page run as an RQ job: the page shows progress, then the result,
which stays readable on reload; only users who may see the simulation page see a run."""

import copy
import html
import re

import django_rq
import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from leadops.tests.test_intake_end_to_end import run_worker_burst
from routing.models import RoutingVersion
from routing.routing_file import routing_config_load
from routing.simulation import simulation_enqueue, simulation_run
from routing.tests.test_simulation import _one_rep_per_team, _route_some

COUNTRIES = ["DE", "CH", "FR", "AT", "CH", "ES", "GB", "DE"]


def _run_url(response) -> str:
    assert response.status_code == 302, response.content.decode()[:2000]
    assert re.fullmatch(r"/admin/routing/rule/simulate/[\w-]+/", response.url), response.url
    return response.url


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_big_period_runs_on_a_real_worker_with_progress_and_the_result_page_survives_a_reload(admin_client, settings):
    django_rq.get_queue("default").empty()  # jobs other tests left behind
    settings.SIMULATION_JOB_MIN_LEADS = 5  # 8 leads: "big"
    routing_config_load(_one_rep_per_team())
    _route_some(COUNTRIES)

    url = _run_url(admin_client.post(reverse("admin:routing_rule_simulate"), {"setup": "current", "simulate": "1"}))
    waiting = admin_client.get(url).content.decode()
    assert "Simulating 8 leads under the current set-up" in waiting and "Waiting for a worker" in waiting
    progress = admin_client.get(url + "progress/").json()
    assert progress == {"state": "queued", "done": 0, "total": 8}

    worker = run_worker_burst("default")
    assert worker.returncode == 0, worker.stderr[-2000:]

    assert admin_client.get(url + "progress/").json() == {"state": "finished", "done": 8, "total": 8}
    for _ in range(2):  # a reload shows the same result
        response = admin_client.get(url)
        page = response.content.decode()
        assert response.status_code == 200 and 'id="simulation-result"' in page
        assert {r["email"]: (r["actual"], r["simulated"]) for r in response.context["reps"]} == {
            "ana@example.com": (5, 5),
            "dora@example.com": (3, 3),
        }
        assert "<td>Ana</td><td>5</td><td>5</td>" in page  # the rep by name
        assert "8 leads created" in page and "0 would get another first owner" in page


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_big_period_under_a_bad_draft_is_refused_on_the_form_and_queues_nothing(admin_client, settings):
    from django.core.files.uploadedfile import SimpleUploadedFile

    queue = django_rq.get_queue("default")
    queue.empty()
    settings.SIMULATION_JOB_MIN_LEADS = 1
    routing_config_load(_one_rep_per_team())
    _route_some(["DE", "FR"])
    bad = SimpleUploadedFile("draft.json", b'{"rules": [{"name": "X", "strategy": "coin_flip"}]}')
    response = admin_client.post(reverse("admin:routing_rule_simulate"), {"setup": "draft", "draft": bad})
    assert response.status_code == 200 and 'rules[0] "X": strategy' in html.unescape(response.content.decode())
    assert queue.count == 0


def test_with_jobs_inline_a_big_period_runs_in_the_request(admin_client, settings):
    if django_rq.get_queue("default").is_async:
        pytest.skip("jobs run on workers here (REDIS_URL set); the inline case is the SQLite run's")
    settings.SIMULATION_JOB_MIN_LEADS = 1
    routing_config_load(_one_rep_per_team())
    _route_some(["DE", "FR", "CH"])
    response = admin_client.post(reverse("admin:routing_rule_simulate"), {"setup": "current", "simulate": "1"})
    assert response.status_code == 200 and response.context["result"]["leads"] == 3


@pytest.mark.django_db
def test_a_job_records_its_progress_and_its_outcome():
    """The job itself, run where it is queued (inline on fakeredis, or read back after a worker on Redis)."""
    if django_rq.get_queue("default").is_async:
        pytest.skip("covered with a real worker above")
    routing_config_load(_one_rep_per_team())
    _route_some(["DE", "FR", "CH", "AT"])
    job_id = simulation_enqueue({"setup": "current"}, who="ops", total=4)
    run = simulation_run(job_id)
    assert (run.state, run.done, run.total, run.who) == ("finished", 4, 4, "ops")
    assert run.outcome["result"]["leads"] == 4 and run.outcome["never_fired"] == []


@pytest.mark.django_db
def test_a_draft_simulated_in_the_background_can_be_loaded_from_its_result_page(admin_client):
    """Run inline here (the job and its page are the same with a worker): "Load this draft" works from the run."""
    if django_rq.get_queue("default").is_async:
        pytest.skip("needs jobs inline: the real-worker test above covers the queue")
    routing_config_load(_one_rep_per_team())
    _route_some(["DE", "CH", "FR"])
    draft = copy.deepcopy(_one_rep_per_team())
    draft["rules"][0]["conditions"][0]["value"] = ["DE", "AT"]  # Switzerland goes to Europe
    job_id = simulation_enqueue({"setup": "draft", "draft": draft}, who="ops", total=3)
    page = admin_client.get(reverse("admin:routing_rule_simulation_run", args=[job_id]))
    assert page.context["result"]["changed_owner"] == 1 and "under the draft" in page.content.decode()
    form = re.search(r'<form method="post" action="([^"]+)">', page.content.decode())
    assert form and form.group(1) == reverse("admin:routing_rule_simulate")
    loaded = admin_client.post(form.group(1), {"load": "1", "draft_json": page.context["draft_json"]})
    version = RoutingVersion.objects.first()
    assert loaded.status_code == 302 and loaded.url.endswith(f"/{version.pk}/change/")
    assert version.changes == ['rule "DACH": condition 1: country is one of DE, AT, CH → country is one of DE, AT']


@pytest.mark.django_db
def test_runs_and_their_progress_need_the_simulation_pages_permission(client, django_user_model):
    user = django_user_model.objects.create_user("clerk", password="pw-12345-long", is_staff=True)
    client.force_login(user)
    run = reverse("admin:routing_rule_simulation_run", args=["4f1c0f8e-0000-4000-8000-000000000000"])
    for url in (reverse("admin:routing_rule_simulate"), run, run + "progress/"):
        assert client.get(url).status_code == 403, url
    user.user_permissions.add(Permission.objects.get(codename="view_rule"))
    page = client.get(run)
    assert page.status_code == 200 and "There is no such simulation" in page.content.decode()
    assert reverse("admin:routing_rule_simulate") in page.content.decode()  # no dead end
    assert client.get(run + "progress/").json() == {"state": "gone", "done": 0, "total": 0}


@pytest.mark.django_db
def test_the_run_page_shows_no_other_kind_of_job(admin_client):
    job = django_rq.get_queue("default", commit_mode="auto").enqueue("routing.jobs.route_pending_job", at_front=True)
    assert simulation_run(job.id) is None
    page = admin_client.get(reverse("admin:routing_rule_simulation_run", args=[job.id])).content.decode()
    assert "There is no such simulation" in page
    django_rq.get_queue("default").remove(job.id)


@pytest.mark.django_db
def test_progress_is_reported_as_the_leads_are_replayed(monkeypatch):
    from routing.simulation import simulation_outcome

    monkeypatch.setattr("routing.simulation.PROGRESS_EVERY", 2)
    routing_config_load(_one_rep_per_team())
    _route_some(["DE", "CH", "FR", "AT", "ES"])
    seen = []
    outcome = simulation_outcome({"setup": "current"}, progress=lambda done, total: seen.append((done, total)))
    assert outcome["result"]["leads"] == 5
    assert seen == [(0, 5), (2, 5), (4, 5), (5, 5)]


@pytest.mark.django_db
def test_when_redis_does_not_answer_the_pages_say_so_instead_of_failing(admin_client, monkeypatch, settings):
    import redis
    from rq import Queue

    dead = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=1)
    monkeypatch.setattr(django_rq, "get_queue", lambda name="default", **kwargs: Queue(name, connection=dead))
    monkeypatch.setattr(django_rq, "get_connection", lambda name="default", **kwargs: dead)
    settings.SIMULATION_JOB_MIN_LEADS = 1
    routing_config_load(_one_rep_per_team())
    _route_some(["DE", "FR"])
    form = admin_client.post(reverse("admin:routing_rule_simulate"), {"setup": "current", "simulate": "1"})
    assert form.status_code == 200 and "Could not queue the simulation (ConnectionError)" in form.content.decode()
    run = reverse("admin:routing_rule_simulation_run", args=["4f1c0f8e-0000-4000-8000-000000000000"])
    page = admin_client.get(run)
    assert page.status_code == 200 and "The job queue (Redis) does not answer" in page.content.decode()
    assert admin_client.get(run + "progress/").json()["state"] == "unreachable"
