"""No input gives a 500 (issue 13, defects 4 and 7): each case the probe found, answered with a 4xx
naming the parameter (or served, for report periods, shortened to what a report may cover)."""

import datetime as dt

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from leadops.tests.factories import LeadFactory
from reports.filters import MAX_DAYS, period_clamp

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "query", ["created_after=2020-01-01T00:00:00-22:21", "created_before=2020-01-01T00:00:00%2B23:59"]
)
def test_offsets_postgres_refuses_are_read_as_the_same_moment_in_utc(api, query):
    assert api.get(f"/api/leads/?{query}").status_code == 200


@pytest.mark.parametrize(
    "query",
    [
        "created_after=9999-12-31T23:00:00-05:00",  # past year 9999 in UTC
        "created_after=0001-01-01T00:30:00%2B01:00",  # before year 1 in UTC
    ],
)
def test_times_off_the_calendar_in_utc_get_400_naming_the_parameter(api, query):
    response = api.get(f"/api/leads/?{query}")
    assert response.status_code == 400
    assert set(response.json()) == {query.split("=")[0]}


def test_an_offset_is_read_as_the_same_moment_in_utc(api, integration):
    lead = LeadFactory(integration=integration, created_at=dt.datetime(2020, 1, 1, 23, 0, tzinfo=dt.UTC))
    ids = [r["id"] for r in api.get("/api/leads/?created_after=2020-01-01T00:00:00-14:00").json()["results"]]
    assert ids == [lead.pk]  # 2020-01-01T14:00Z ≤ 23:00Z


@pytest.mark.parametrize("owner", ["%C2%B3", "%D9%A3", "%EF%BC%91"])  # ³, Arabic-Indic 3, fullwidth 1
def test_an_owner_of_non_ascii_digits_is_an_email_lookup_not_a_500(api, owner):
    response = api.get(f"/api/leads/?owner={owner}")
    assert response.status_code == 200 and response.json()["count"] == 0


@pytest.mark.parametrize("path", ["/api/leads/", "/api/leads/bulk/", "/api/leads/{lead}/", "/api/leads/{lead}/events/"])
def test_options_describes_every_endpoint(api, integration, path):
    lead = LeadFactory(integration=integration)
    response = api.options(path.format(lead=lead.pk))
    assert response.status_code == 200 and response.json()["name"]


@pytest.mark.parametrize("lead_id", ["-1", "0", "99999999999999999999", "9223372036854775808"])
def test_ids_no_lead_can_have_get_the_apis_json_404(api, lead_id):
    for response in (api.get(f"/api/leads/{lead_id}/"), api.post(f"/api/leads/{lead_id}/events/", {}, format="json")):
        assert response.status_code == 404 and response.json() == {"detail": "No lead with this id."}


@pytest.fixture
def manager_client(client, django_user_model):
    manager = django_user_model.objects.create_user("manager")
    manager.groups.add(Group.objects.get(name="Managers"))
    client.force_login(manager)
    return client


@pytest.mark.parametrize("url", ["/reports/", "/reports/reps.csv"])
@pytest.mark.parametrize("query", ["end=9999-12-31", "start=0001-01-01", "start=0001-01-01&end=9999-12-31"])
def test_a_silly_report_period_is_shortened_not_a_500(manager_client, url, query):
    response = manager_client.get(f"{url}?{query}")
    assert response.status_code == 200
    today = timezone.localdate()
    if url == "/reports/":
        start, end = response.context["filters"].period
        assert end <= today and (end - start).days < MAX_DAYS
        assert "The period was shortened" in response.content.decode()
    else:
        assert response["Content-Disposition"].endswith(f'-{today:%Y%m%d}.csv"')


def test_a_period_within_the_limits_is_left_as_asked(manager_client):
    response = manager_client.get("/reports/?start=2026-01-01&end=2026-03-31")
    assert response.context["filters"].period == (dt.date(2026, 1, 1), dt.date(2026, 3, 31))
    assert "The period was shortened" not in response.content.decode()


def test_period_clamp():
    today = dt.date(2026, 12, 5)
    assert period_clamp(dt.date(2026, 1, 1), dt.date(2026, 2, 1), today) == (
        dt.date(2026, 1, 1),
        dt.date(2026, 2, 1),
        "",
    )
    start, end, note = period_clamp(dt.date(1, 1, 1), dt.date(9999, 12, 31), today)
    assert end == today and (end - start).days == MAX_DAYS - 1
    assert note == "The period was shortened: it ends today: there is no data after today and covers at most 3 years."
    assert period_clamp(dt.date(9999, 1, 1), dt.date(9999, 12, 31), today)[:2] == (today, today)
