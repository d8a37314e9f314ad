"""Ops admin for teams, skills and reps: pages render, load is shown, no query per row."""

import re

import pytest
from django.urls import reverse

from leadops.tests.factories import LeadFactory
from reps.models import Rep, SkillTag, Team
from reps.tests.factories import RepFactory, SkillTagFactory
from routing.tests.admin_pages import queries_at_5_and_50_rows

pytestmark = pytest.mark.django_db
MAX_QUERIES = 30

PAGES = [(kind, model) for model in (Team, SkillTag, Rep) for kind in ("changelist", "add", "change")]


@pytest.mark.parametrize("kind, model", PAGES, ids=[f"{m.__name__}-{k}" for k, m in PAGES])
def test_page_renders_in_the_same_few_queries_at_5_and_50_rows(admin_client, kind, model):
    at_5, at_50 = queries_at_5_and_50_rows(admin_client, kind, model)
    assert at_50 == at_5 <= MAX_QUERIES


def test_rep_list_shows_open_leads_against_capacity(admin_client):
    rep = RepFactory(name="Ana Ruiz", capacity=40)
    LeadFactory.create_batch(10, status="assigned", owner=rep)
    LeadFactory.create_batch(3, status="converted", owner=rep)  # closed: not open any more
    response = admin_client.get(reverse("admin:reps_rep_changelist"))
    row = next(r for r in response.context["cl"].result_list if r.pk == rep.pk)
    assert row.open_leads == 10
    assert "25%" in response.content.decode()


def test_rep_with_zero_weight_is_refused_with_a_reason(admin_client):
    rep = RepFactory()
    data = {
        "name": rep.name,
        "email": rep.email,
        "active": "on",
        "timezone": "UTC",
        "capacity": "40",
        "daily_cap": "15",
        "weight": "0",
        "working_hours": "{}",
        "rep_skills-TOTAL_FORMS": "1",
        "rep_skills-INITIAL_FORMS": "0",
        "rep_skills-0-skill": SkillTagFactory().pk,
        "rep_skills-0-proficiency": "7",
        "time_off-TOTAL_FORMS": "0",
        "time_off-INITIAL_FORMS": "0",
    }
    response = admin_client.post(reverse("admin:reps_rep_change", args=[rep.pk]), data)
    content = response.content.decode()
    assert response.status_code == 200
    assert "Weight must be above 0" in content
    assert "Proficiency runs from 1 (basic) to 5 (expert)." in content
    rep.refresh_from_db()
    assert rep.weight == 1


def rep_form_data(rep, **changes) -> dict:
    """The rep change form as the browser posts it, with no skills or time off rows."""
    data = {
        "name": rep.name,
        "email": rep.email,
        "active": "on",
        "timezone": "UTC",
        "capacity": str(rep.capacity),
        "daily_cap": str(rep.daily_cap),
        "weight": str(rep.weight),
        "working_hours": "{}",
        "rep_skills-TOTAL_FORMS": "0",
        "rep_skills-INITIAL_FORMS": "0",
        "time_off-TOTAL_FORMS": "0",
        "time_off-INITIAL_FORMS": "0",
    }
    return {**data, **changes}


def test_deactivating_a_rep_goes_through_a_confirmation_that_hands_back_only_uncontacted_leads(
    admin_client, django_capture_on_commit_callbacks
):
    from django.utils import timezone

    leaving = RepFactory(name="Leaving Rep")
    contacted = LeadFactory.create_batch(2, status="assigned", owner=leaving, first_contacted_at=timezone.now())
    waiting = LeadFactory.create_batch(3, status="assigned", owner=leaving)
    page = admin_client.post(
        reverse("admin:reps_rep_changelist"),
        {"action": "deactivate_and_redistribute", "_selected_action": [leaving.pk]},
        follow=True,
    )
    content = page.content.decode()
    assert "They hold <strong>5</strong> open leads" in content
    assert "<strong>3</strong> not yet contacted, <strong>2</strong> already contacted" in content
    assert re.search(r'value="uncontacted"[^>]*checked', content)  # the default
    leaving.refresh_from_db()
    assert leaving.active  # nothing happens before the confirmation
    with django_capture_on_commit_callbacks(execute=False):
        done = admin_client.post(page.request["PATH_INFO"] + f"?ids={leaving.pk}", {"hand_back": "uncontacted"})
    assert done.status_code == 302 and "/admin/leadops/lead/?id__in=" in done["Location"]
    leaving.refresh_from_db()
    assert not leaving.active
    assert set(leaving.leads.values_list("id", flat=True)) == {lead.id for lead in contacted}
    assert all(lead.id in [int(i) for i in done["Location"].split("=")[1].split(",")] for lead in waiting)


def test_unticking_active_on_the_rep_page_saves_the_rest_and_asks_about_the_leads(admin_client):
    rep = RepFactory(capacity=40)
    LeadFactory(status="assigned", owner=rep)
    data = rep_form_data(rep, capacity="25")
    del data["active"]  # the box unticked
    response = admin_client.post(reverse("admin:reps_rep_change", args=[rep.pk]), data)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('admin:reps_rep_deactivate')}?ids={rep.pk}"
    rep.refresh_from_db()
    assert rep.capacity == 25 and rep.active
    assert rep.leads.count() == 1


def test_rep_history_says_what_capacity_and_team_changed_from(admin_client):
    from django.contrib.admin.models import LogEntry

    from reps.tests.factories import TeamFactory

    rep = RepFactory(capacity=40, team=TeamFactory(name="EMEA Enterprise"))
    TeamFactory(name="EMEA Mid-Market")
    data = {
        "name": rep.name,
        "email": rep.email,
        "active": "on",
        "timezone": "UTC",
        "capacity": "25",
        "daily_cap": str(rep.daily_cap),
        "weight": str(rep.weight),
        "working_hours": "{}",
        "team": Team.objects.get(name="EMEA Mid-Market").pk,
        "rep_skills-TOTAL_FORMS": "0",
        "rep_skills-INITIAL_FORMS": "0",
        "time_off-TOTAL_FORMS": "0",
        "time_off-INITIAL_FORMS": "0",
    }
    assert admin_client.post(reverse("admin:reps_rep_change", args=[rep.pk]), data).status_code == 302
    message = LogEntry.objects.get(object_id=str(rep.pk)).get_change_message()
    assert "Capacity: 40 → 25" in message and "Team: EMEA Enterprise → EMEA Mid-Market" in message


def test_rep_list_marks_reps_on_time_off_now(admin_client):
    from reps.tests.factories import TimeOffFactory

    away = TimeOffFactory().rep
    here = RepFactory()
    rows = {r.pk: r for r in admin_client.get(reverse("admin:reps_rep_changelist")).context["cl"].result_list}
    assert rows[away.pk].away_now and not rows[here.pk].away_now


def test_editing_an_active_rep_leaves_their_leads_alone(admin_client):
    rep = RepFactory()
    lead = LeadFactory(status="assigned", owner=rep)
    data = rep_form_data(rep, capacity="7")
    assert admin_client.post(reverse("admin:reps_rep_change", args=[rep.pk]), data).status_code == 302
    lead.refresh_from_db()
    assert lead.owner_id == rep.pk and lead.status == "assigned"


def test_working_hours_are_day_boxes_and_two_times(admin_client):
    rep = RepFactory(working_hours={})
    url = reverse("admin:reps_rep_change", args=[rep.pk])
    page = admin_client.get(url).content.decode()
    assert 'type="checkbox" name="working_hours_0" value="1"' in page and 'type="time"' in page
    hours = {"working_hours_0": ["1", "2", "3", "4", "5"], "working_hours_1": "08:00", "working_hours_2": "18:00"}
    assert admin_client.post(url, rep_form_data(rep, **hours)).status_code == 302
    rep.refresh_from_db()
    assert rep.working_hours == {"start": "08:00", "end": "18:00", "days": [1, 2, 3, 4, 5]}
    half = admin_client.post(url, rep_form_data(rep, working_hours_0=["6"], working_hours_1="09:00"))
    assert "Give both times (from and until), or leave the working hours empty." in half.content.decode()
    backwards = admin_client.post(
        url, rep_form_data(rep, working_hours_0=["1"], working_hours_1="18:00", working_hours_2="08:00")
    )
    assert "Working hours must end after they start." in backwards.content.decode()
    cleared = rep_form_data(rep)
    assert admin_client.post(url, cleared).status_code == 302
    rep.refresh_from_db()
    assert rep.working_hours == {}
