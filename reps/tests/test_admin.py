"""Ops admin for teams, skills and reps: pages render, load is shown, no query per row."""

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


def test_deactivating_a_rep_from_the_list_sends_their_open_leads_to_others(
    admin_client, django_capture_on_commit_callbacks
):
    leaving = RepFactory(name="Leaving Rep")
    open_leads = LeadFactory.create_batch(3, status="assigned", owner=leaving)
    with django_capture_on_commit_callbacks(execute=False):
        response = admin_client.post(
            reverse("admin:reps_rep_changelist"),
            {"action": "deactivate_and_redistribute", "_selected_action": [leaving.pk]},
            follow=True,
        )
    assert "1 reps deactivated; 3 open leads sent back to routing." in response.content.decode()
    leaving.refresh_from_db()
    assert not leaving.active
    assert not Rep.objects.get(pk=leaving.pk).leads.filter(pk__in=[lead.pk for lead in open_leads]).exists()


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


def test_unticking_active_on_the_rep_page_sends_their_open_leads_to_others(
    admin_client, django_capture_on_commit_callbacks
):
    leaving = RepFactory(name="Leaving Rep")
    open_leads = LeadFactory.create_batch(2, status="assigned", owner=leaving)
    data = {
        "name": leaving.name,
        "email": leaving.email,
        "timezone": "UTC",
        "capacity": str(leaving.capacity),
        "daily_cap": str(leaving.daily_cap),
        "weight": str(leaving.weight),
        "working_hours": "{}",
        "rep_skills-TOTAL_FORMS": "0",
        "rep_skills-INITIAL_FORMS": "0",
        "time_off-TOTAL_FORMS": "0",
        "time_off-INITIAL_FORMS": "0",
    }  # "active" left out: the box is unticked
    with django_capture_on_commit_callbacks(execute=False):
        response = admin_client.post(reverse("admin:reps_rep_change", args=[leaving.pk]), data, follow=True)
    assert "Leaving Rep is inactive; 2 open lead(s) sent back to routing." in response.content.decode()
    for lead in open_leads:
        lead.refresh_from_db()
        assert (lead.owner_id, lead.status) == (None, "pending")


def test_editing_an_active_rep_leaves_their_leads_alone(admin_client):
    rep = RepFactory()
    lead = LeadFactory(status="assigned", owner=rep)
    data = {
        "name": rep.name,
        "email": rep.email,
        "active": "on",
        "timezone": "UTC",
        "capacity": "7",
        "daily_cap": str(rep.daily_cap),
        "weight": str(rep.weight),
        "working_hours": "{}",
        "rep_skills-TOTAL_FORMS": "0",
        "rep_skills-INITIAL_FORMS": "0",
        "time_off-TOTAL_FORMS": "0",
        "time_off-INITIAL_FORMS": "0",
    }
    assert admin_client.post(reverse("admin:reps_rep_change", args=[rep.pk]), data).status_code == 302
    lead.refresh_from_db()
    assert lead.owner_id == rep.pk and lead.status == "assigned"
