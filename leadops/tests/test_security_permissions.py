"""Permissions mean what they say (issue 13, defect 2): who gets what on every page and API call.

Users: anonymous, a plain user, staff without permissions, a manager (the Managers group), ops
(staff with the lead permissions), a superuser, and an integration key. Staff status alone opens
nothing: the API's session path needs the lead permissions (view to read, add to post, change to
post events), the reports need reports.view_reports, the queue pages need a superuser.
"""

import pytest
from django.contrib.auth.models import Group, Permission
from rest_framework.test import APIClient

from leadops.models import Lead, LeadEvent
from leadops.tests.conftest import client_for
from leadops.tests.factories import IntegrationFactory, LeadFactory

pytestmark = pytest.mark.django_db

WHO = ["anonymous", "plain", "staff", "manager", "ops", "superuser", "integration"]
LOGIN = "login"  # a 302 to a login page

# (method, url, body) → the answer for each of WHO, in that order.
MATRIX = [
    (("GET", "/api/leads/", None), [401, 403, 403, 403, 200, 200, 200]),
    (("OPTIONS", "/api/leads/", None), [401, 403, 403, 403, 200, 200, 200]),
    (("POST", "/api/leads/", {"email": "new@example.com"}), [401, 403, 403, 403, 201, 201, 201]),
    (("POST", "/api/leads/bulk/", [{"phone": "+1 555 0100"}]), [401, 403, 403, 403, 200, 200, 200]),
    (("GET", "/api/leads/{lead}/", None), [401, 403, 403, 403, 200, 200, 200]),
    (("POST", "/api/leads/{lead}/events/", {"type": "lost"}), [401, 403, 403, 403, 201, 201, 201]),
    (("GET", "/api/schema/", None), [200] * 7),
    (("GET", "/healthz", None), [200] * 7),
    (("GET", "/reports/", None), [LOGIN, 403, 403, 200, 403, 200, LOGIN]),
    (("GET", "/reports/reps.csv", None), [LOGIN, 403, 403, 200, 403, 200, LOGIN]),
    (("GET", "/django-rq/", None), [LOGIN, 403, 403, 403, 403, 200, LOGIN]),
    (("GET", "/django-rq/stats.json", None), [LOGIN, 403, 403, 403, 403, 200, LOGIN]),
    (("GET", "/django-rq/queues/0/", None), [LOGIN, 403, 403, 403, 403, 200, LOGIN]),
    (("POST", "/django-rq/queues/0/empty/", None), [LOGIN, 403, 403, 403, 403, 302, LOGIN]),
    (("GET", "/admin/django_rq/dashboard/", None), [LOGIN, LOGIN, 404, LOGIN, 404, 404, LOGIN]),
    (("GET", "/admin/leadops/lead/", None), [LOGIN, LOGIN, 403, LOGIN, 200, 200, LOGIN]),
    (("GET", "/admin/leadops/lead/export/", None), [LOGIN, LOGIN, 403, LOGIN, 200, 200, LOGIN]),
]
CASES = [
    pytest.param(who, method, url, body, expected, id=f"{who}-{method}-{url}")
    for (method, url, body), answers in MATRIX
    for who, expected in zip(WHO, answers, strict=True)
]


def _user(django_user_model, name, *, staff=False, superuser=False, perms=(), groups=()):
    user = django_user_model.objects.create_user(name, is_staff=staff or superuser, is_superuser=superuser)
    for codename in perms:
        user.user_permissions.add(Permission.objects.get(content_type__app_label="leadops", codename=codename))
    for group in groups:
        user.groups.add(Group.objects.get(name=group))
    return user


@pytest.fixture
def client_as(django_user_model, settings, monkeypatch):
    if not settings.REDIS_URL:  # fakeredis runs no Lua, which rq's Queue.empty uses
        monkeypatch.setattr("rq.queue.Queue.empty", lambda queue: 0)
    integration = IntegrationFactory(name="Web form")
    users = {
        "plain": {},
        "staff": {"staff": True},
        "manager": {"groups": ["Managers"]},
        "ops": {"staff": True, "perms": ["view_lead", "add_lead", "change_lead"]},
        "superuser": {"superuser": True},
    }

    def make(who):
        if who == "anonymous":
            return APIClient(), integration
        if who == "integration":
            return client_for(integration), integration
        client = APIClient()
        client.force_login(_user(django_user_model, who, **users[who]))
        return client, integration

    return make


@pytest.mark.parametrize(("who", "method", "url", "body", "expected"), CASES)
def test_who_gets_what(client_as, who, method, url, body, expected):
    client, integration = client_as(who)
    lead = LeadFactory(integration=integration, status="unroutable")
    leads, events = Lead.objects.count(), LeadEvent.objects.count()
    call = getattr(client, method.lower())
    response = (
        call(url.format(lead=lead.pk), body, format="json") if body is not None else call(url.format(lead=lead.pk))
    )
    if expected == LOGIN:
        assert response.status_code == 302 and "/login/" in response["Location"]
    else:
        assert response.status_code == expected, response.content[:300]
    if response.status_code >= 400:  # a refusal changes nothing
        assert (Lead.objects.count(), LeadEvent.objects.count()) == (leads, events)


def test_an_event_posted_by_a_user_records_who(client_as):
    client, integration = client_as("ops")
    lead = LeadFactory(integration=integration, status="unroutable")
    assert client.post(f"/api/leads/{lead.pk}/events/", {"type": "lost"}, format="json").status_code == 201
    assert LeadEvent.objects.get().user.username == "ops"


def test_a_user_who_may_read_leads_may_not_post_them(client_as, django_user_model):
    client = APIClient()
    client.force_login(_user(django_user_model, "reader", staff=True, perms=["view_lead"]))
    assert client.get("/api/leads/").status_code == 200
    assert client.post("/api/leads/", {"email": "a@example.com"}, format="json").status_code == 403
    adder = APIClient()
    adder.force_login(_user(django_user_model, "adder", staff=True, perms=["view_lead", "add_lead"]))
    lead = LeadFactory(status="unroutable")
    assert adder.post(f"/api/leads/{lead.pk}/events/", {"type": "lost"}, format="json").status_code == 403
    assert not Lead.objects.filter(status="lost").exists()


def test_an_inactive_superuser_gets_nothing(django_user_model):
    user = _user(django_user_model, "gone", superuser=True)
    user.is_active = False
    user.save()
    client = APIClient()
    client.force_login(user)
    assert client.get("/api/leads/").status_code in (401, 403)
    assert client.get("/django-rq/").status_code in (302, 403)
    assert client.get("/reports/").status_code in (302, 403)
