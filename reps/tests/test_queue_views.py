"""/queue/: a rep's own leads and pools, who may see what, claims and outcomes in words."""

import datetime as dt

import pytest
from django.contrib.auth.models import Group, Permission, User
from django.test import Client
from django.utils import timezone

from leadops.models import Lead, LeadEvent
from reps.tests.conftest import PASSWORD, client_for
from routing.models import Assignment

HAS_SLA = any(f.name == "sla_due_at" for f in Assignment._meta.get_fields())


def page_text(response) -> str:
    return response.content.decode()


def said(response) -> str:
    """The message the page answered with (the last one: earlier unfollowed redirects queue theirs too)."""
    return [str(m) for m in response.context["messages"]][-1]


# ---------------------------------------------------------------- who may see what


def test_anonymous_visitors_are_sent_to_the_login_and_change_nothing(floor):
    lead = floor.pooled(1)[0]
    anonymous = Client()
    for response in (
        anonymous.get("/queue/"),
        anonymous.get(f"/queue/leads/{lead.pk}/"),
        anonymous.post(f"/queue/leads/{lead.pk}/claim/"),
        anonymous.post("/queue/next/"),
    ):
        assert response.status_code == 302 and response["Location"].startswith("/queue/login/?next=")
    assert Lead.objects.get(pk=lead.pk).status == "pooled"


def test_a_login_with_no_rep_gets_a_page_saying_so_and_staff_keep_the_admin(floor):
    nobody = User.objects.create_user("nobody", password=PASSWORD)
    response = client_for(nobody).get("/queue/")
    assert response.status_code == 403
    assert "This login is not linked to a sales rep" in page_text(response)
    assert 'href="/admin/"' not in page_text(response)

    ops = User.objects.create_user("ops", password=PASSWORD, is_staff=True, is_superuser=True)
    ops_client = client_for(ops)
    response = ops_client.get("/queue/")
    assert response.status_code == 403 and 'href="/admin/"' in page_text(response)
    assert ops_client.get("/admin/").status_code == 200


def test_a_rep_has_nothing_in_the_admin(floor):
    response = client_for(floor.ana.user).get("/admin/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_home_sends_each_user_to_their_page(floor):
    manager = User.objects.create_user("manager", password=PASSWORD)
    group, _ = Group.objects.get_or_create(name="Managers")
    group.permissions.add(Permission.objects.get(codename="view_reports"))
    manager.groups.add(group)
    ops = User.objects.create_user("ops", password=PASSWORD, is_staff=True)
    assert Client().get("/")["Location"] == "/queue/login/"
    assert client_for(floor.ana.user).get("/")["Location"] == "/queue/"
    assert client_for(ops).get("/")["Location"] == "/admin/"
    assert client_for(manager).get("/")["Location"] == "/reports/"


def test_logging_in_on_the_queue_login_lands_a_rep_on_their_queue(floor):
    client = Client()
    response = client.post("/queue/login/", {"username": "ana", "password": PASSWORD}, follow=True)
    assert response.redirect_chain[-1][0] == "/queue/"
    assert "My leads" in page_text(response)


def test_a_rep_sees_their_open_leads_newest_first_and_only_their_pools(floor):
    pooled = floor.pooled(3)
    carls = floor.assigned_to_carl(2)
    ana = client_for(floor.ana.user)
    for lead in pooled[:2]:
        ana.post(f"/queue/leads/{lead.pk}/claim/")
    queue = ana.get("/queue/").context["queue"]
    assert [item.lead.pk for item in queue.my_leads] == [pooled[1].pk, pooled[0].pk]
    assert [(p.name, [lead.pk for lead in p.leads]) for p in queue.pools] == [("No company given", [pooled[2].pk])]
    text = page_text(ana.get("/queue/"))
    assert all(str(lead) not in text for lead in carls)
    assert "Claimed by Ana Ruiz from the pool of “No company given”" in text  # why it is mine, in words

    carl = client_for(floor.carl.user).get("/queue/")
    assert [item.lead.pk for item in carl.context["queue"].my_leads] == [lead.pk for lead in reversed(carls)]
    assert carl.context["queue"].pools == []
    assert "No lead is waiting in a pool you belong to." in page_text(carl)
    assert "Round robin in “Logistics to Field”: Carl Berg was next in the rotation" in page_text(carl)


def test_permission_matrix_another_reps_lead_or_pool_is_a_404(floor):
    pooled = floor.pooled(1)[0]
    carls = floor.assigned_to_carl(1)[0]
    ana, carl = client_for(floor.ana.user), client_for(floor.carl.user)

    assert ana.get(f"/queue/leads/{carls.pk}/").status_code == 404  # another rep's lead
    assert carl.get(f"/queue/leads/{pooled.pk}/").status_code == 404  # a pool Carl is not in
    assert carl.post(f"/queue/leads/{pooled.pk}/claim/").status_code == 404
    assert ana.post(f"/queue/leads/{carls.pk}/outcome/", {"type": "converted"}).status_code == 404
    assert ana.post(f"/queue/leads/{carls.pk}/claim/").status_code == 404  # not pooled, never in Ana's pool
    assert ana.get("/queue/leads/999999/").status_code == 404

    assert Lead.objects.get(pk=pooled.pk).status == "pooled"
    assert Lead.objects.get(pk=carls.pk).status == "assigned" and not LeadEvent.objects.exists()
    assert ana.get(f"/queue/leads/{pooled.pk}/").status_code == 200  # in Ana's pool: she may look
    assert carl.get(f"/queue/leads/{carls.pk}/").status_code == 200


def test_a_user_with_no_rep_cannot_post_outcomes_or_claim(floor):
    pooled = floor.pooled(1)[0]
    nobody = client_for(User.objects.create_user("nobody", password=PASSWORD))
    assert nobody.post(f"/queue/leads/{pooled.pk}/claim/").status_code == 403
    assert nobody.post("/queue/next/").status_code == 403
    assert Lead.objects.get(pk=pooled.pk).status == "pooled"


# ---------------------------------------------------------------- claims


def test_two_reps_claim_the_same_lead_one_gets_it_the_other_is_told(floor):
    lead = floor.pooled(1)[0]
    ana, bo = client_for(floor.ana.user), client_for(floor.bo.user)
    won = ana.post(f"/queue/leads/{lead.pk}/claim/", follow=True)
    assert won.redirect_chain[0] == (f"/queue/#lead-{lead.pk}", 302)
    assert said(won) == (f"{Lead.objects.get(pk=lead.pk)} is yours now: it is at the top of your leads.")
    lost = bo.post(f"/queue/leads/{lead.pk}/claim/", follow=True)
    assert said(lost) == (f"Too late: another rep was faster, {lead} is no longer in the pool.")
    lead.refresh_from_db()
    assert (lead.status, lead.owner_id) == ("assigned", floor.ana.pk)
    claims = Assignment.objects.filter(lead=lead, strategy="pool_claim")
    assert [(a.rep_id, a.decided_by_user_id) for a in claims] == [(floor.ana.pk, floor.ana.user.pk)]


def test_the_claim_limit_and_capacity_are_said_in_words(floor):
    leads = floor.pooled(4)
    ana = client_for(floor.ana.user)
    for lead in leads[:2]:
        ana.post(f"/queue/leads/{lead.pk}/claim/")
    refused = ana.post(f"/queue/leads/{leads[2].pk}/claim/", follow=True)
    assert said(refused) == (
        f"You cannot take {leads[2]}: Ana Ruiz holds as many unworked leads from this pool as the rule allows."
    )
    pool = refused.context["queue"].pools[0]
    assert (pool.claimed_open, pool.claim_limit) == (2, 2)
    assert "You cannot take from this pool now: you hold as many uncontacted leads" in page_text(refused)

    ana.post(f"/queue/leads/{leads[0].pk}/outcome/", {"type": "contacted"})  # a contacted lead frees its slot
    ana.post(f"/queue/leads/{leads[2].pk}/claim/")
    assert Lead.objects.get(pk=leads[2].pk).owner_id == floor.ana.pk

    floor.bo.capacity = 0
    floor.bo.save()
    refused = client_for(floor.bo.user).post(f"/queue/leads/{leads[3].pk}/claim/", follow=True)
    assert said(refused) == (f"You cannot take {leads[3]}: Bo Lind is at capacity.")
    assert Lead.objects.get(pk=leads[3].pk).status == "pooled"


def test_next_lead_takes_the_oldest_lead_i_may_take(floor):
    now = timezone.now()
    leads = floor.pooled(3)
    for age, lead in zip((5, 30, 10), leads, strict=True):
        Lead.objects.filter(pk=lead.pk).update(created_at=now - dt.timedelta(minutes=age))
    ana = client_for(floor.ana.user)
    first = ana.post("/queue/next/", follow=True)
    assert first.redirect_chain[0] == (f"/queue/#lead-{leads[1].pk}", 302)
    assert "is yours now (from the pool of “No company given”)" in said(first)
    ana.post("/queue/next/")
    assert set(Lead.objects.filter(owner=floor.ana).values_list("pk", flat=True)) == {leads[1].pk, leads[2].pk}
    third = ana.post("/queue/next/", follow=True)  # claim limit 2 reached
    assert said(third) == (
        "No lead for you now: Ana Ruiz holds as many unworked leads from this pool as the rule allows, "
        "in every pool with a lead waiting."
    )
    nothing = client_for(floor.carl.user).post("/queue/next/", follow=True)
    assert said(nothing) == "No lead is waiting in your pools right now."


# ---------------------------------------------------------------- outcomes


def test_outcomes_record_the_same_events_as_the_api(floor, django_capture_on_commit_callbacks):
    leads = floor.pooled(2)
    ana = client_for(floor.ana.user)
    for lead in leads:
        ana.post(f"/queue/leads/{lead.pk}/claim/")
    first, second = leads

    response = ana.post(f"/queue/leads/{first.pk}/outcome/", {"type": "contacted"}, follow=True)
    assert said(response) == (f"{Lead.objects.get(pk=first.pk)} marked contacted.")
    event = LeadEvent.objects.get(lead=first)
    assert (event.type, event.rep_id, event.user_id, event.integration_id) == (
        "contacted",
        floor.ana.pk,
        floor.ana.user.pk,
        None,
    )
    first.refresh_from_db()
    assert first.first_contacted_at == event.at and first.is_open  # contacted leads stay open
    item = next(i for i in response.context["queue"].my_leads if i.lead.pk == first.pk)
    assert item.contacted_at == event.at

    ana.post(f"/queue/leads/{first.pk}/outcome/", {"type": "converted"})
    first.refresh_from_db()
    assert first.status == "converted" and first.closed_at is not None
    assert first.pk not in [i.lead.pk for i in ana.get("/queue/").context["queue"].my_leads]
    again = ana.post(f"/queue/leads/{first.pk}/outcome/", {"type": "lost"}, follow=True)
    assert said(again) == (f"{first}: The lead is converted already.")

    with django_capture_on_commit_callbacks(execute=False):
        response = ana.post(f"/queue/leads/{second.pk}/outcome/", {"type": "misrouted", "note": "Not my region"})
    assert response.status_code == 302
    second.refresh_from_db()
    assert (second.status, second.owner_id) == ("pending", None)  # back to routing, not to Ana
    assert LeadEvent.objects.get(lead=second).note == "Not my region"


def test_misrouted_needs_a_note_and_a_bad_outcome_is_a_400_naming_the_field(floor):
    lead = floor.pooled(1)[0]
    ana = client_for(floor.ana.user)
    ana.post(f"/queue/leads/{lead.pk}/claim/")
    response = ana.post(f"/queue/leads/{lead.pk}/outcome/", {"type": "misrouted", "note": "  "})
    assert response.status_code == 400
    assert "note: Say in a few words why this lead is not for you" in page_text(response)
    response = ana.post(f"/queue/leads/{lead.pk}/outcome/", {"type": "released"})
    assert response.status_code == 400 and "type: Choose contacted, converted, lost or misrouted." in page_text(
        response
    )
    assert not LeadEvent.objects.exists()


def test_forms_need_the_csrf_token(floor):
    lead = floor.pooled(1)[0]
    client = Client(enforce_csrf_checks=True)
    client.force_login(floor.ana.user)
    assert client.post(f"/queue/leads/{lead.pk}/claim/").status_code == 403
    page = client.get("/queue/")
    assert 'name="csrfmiddlewaretoken"' in page_text(page)


@pytest.mark.skipif(not HAS_SLA, reason="Assignment.sla_due_at is not on this branch yet (the SLA watch adds it)")
def test_the_sla_clock_counts_down_and_shows_met_once_contacted(floor):
    lead = floor.pooled(1)[0]
    ana = client_for(floor.ana.user)
    Assignment.objects.filter(lead=lead, ended_at=None).update(sla_due_at=timezone.now() + dt.timedelta(minutes=9))
    assert "SLA: claim within" in page_text(ana.get("/queue/"))  # a pooled lead meets its SLA by being claimed
    ana.post(f"/queue/leads/{lead.pk}/claim/")
    Assignment.objects.filter(lead=lead, ended_at=None).update(sla_due_at=timezone.now() + dt.timedelta(minutes=30))
    assert 'class="sla sla-running"' in page_text(ana.get("/queue/"))
    ana.post(f"/queue/leads/{lead.pk}/outcome/", {"type": "contacted"})
    assert 'class="sla sla-met"' in page_text(ana.get("/queue/"))


# ---------------------------------------------------------------- cost


def test_the_queue_page_costs_the_same_queries_for_5_or_25_leads(floor, django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    ana = client_for(floor.ana.user)
    floor.pool_rule.claim_limit = None
    floor.pool_rule.save()

    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert ana.get("/queue/").status_code == 200
        return len(ctx.captured_queries)

    for lead in floor.pooled(5):
        ana.post(f"/queue/leads/{lead.pk}/claim/")
    floor.pooled(5)
    small = queries()
    for lead in floor.pooled(20):
        ana.post(f"/queue/leads/{lead.pk}/claim/")
    floor.pooled(20)
    assert queries() == small


# ---------------------------------------------------------------- logins for reps


def test_ops_give_a_rep_a_login_from_the_admin_and_the_password_is_shown_once(floor):
    from reps.tests.factories import RepFactory

    rep = RepFactory(name="Dana Cole", email="dana.cole@leadops.example", team=floor.ana.team)
    ops = User.objects.create_superuser("ops", password=PASSWORD)
    admin = client_for(ops)
    response = admin.post(
        "/admin/reps/rep/", {"action": "give_login", "_selected_action": [rep.pk, floor.ana.pk]}, follow=True
    )
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    (made,) = response.context["made"]
    assert made.username == "dana.cole" and len(made.password) >= 16
    assert response.context["refused"] == ["Ana Ruiz has a login already (ana)."]
    rep.refresh_from_db()
    assert rep.user.username == "dana.cole" and not rep.user.is_staff
    client = Client()
    assert client.login(username="dana.cole", password=made.password)
    assert client.get("/queue/").context["queue"].rep == rep
