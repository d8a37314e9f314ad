"""Routing with the database: leads_route, the sweep, jobs on commit, reassign, claim, release."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from leadops.models import Lead
from leadops.services.events import lead_event_record
from leadops.tests.factories import AccountFactory, LeadFactory
from reps.models import Rep
from reps.tests.factories import RepFactory, TeamFactory, TimeOffFactory
from routing.models import Assignment, RepDailyCount, RotationCursor, RuleSet
from routing.services import (
    RoutingConflict,
    RoutingError,
    lead_claim,
    leads_enqueue_routing,
    leads_reassign,
    leads_release,
    leads_route,
    leads_route_pending,
    rep_routing_update,
)
from routing.tests.factories import (
    AssignmentFactory,
    RuleConditionFactory,
    RuleFactory,
    RulePoolRepFactory,
    TerritoryFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def team_of_three():
    team = TeamFactory(name="Inbound")
    reps = [RepFactory(team=team, name=f"Rep {c}", capacity=10, daily_cap=10) for c in "ABC"]
    rule = RuleFactory(name="Inbound round robin", pool_team=team)
    return team, reps, rule


def run_routing_jobs():
    """Inline queues (no REDIS_URL) already ran the jobs; with Redis, work them off here.

    SimpleWorker does not fork, so the job sees this test's uncommitted data.
    """
    import django_rq
    from rq import SimpleWorker

    queue = django_rq.get_queue("routing")
    if queue.is_async:
        SimpleWorker([queue], connection=queue.connection).work(burst=True)


def route(leads, **kw):
    return leads_route(lead_ids=[lead.id for lead in leads], **kw)


def owners_of(leads):
    by_id = dict(Lead.objects.filter(id__in=[lead.id for lead in leads]).values_list("id", "owner_id"))
    return [by_id[lead.id] for lead in leads]


def test_pending_leads_are_assigned_in_rotation_with_an_explained_assignment(team_of_three):
    _, reps, rule = team_of_three
    leads = LeadFactory.create_batch(4)
    result = route(leads)
    assert (result.assigned, result.unroutable, result.failed) == (4, 0, {})
    assert owners_of(leads) == [reps[0].id, reps[1].id, reps[2].id, reps[0].id]
    lead = Lead.objects.get(id=leads[0].id)
    assert (lead.status, lead.assigned_at is not None) == ("assigned", True)
    a = Assignment.objects.get(lead=lead)
    assert (a.outcome, a.rep_id, a.rule_id, a.rule_name, a.strategy, a.decided_by) == (
        "assigned",
        reps[0].id,
        rule.id,
        "Inbound round robin",
        "round_robin",
        "engine",
    )
    assert a.rule_set_version == RuleSet.current().version
    assert a.reason["rules"][0]["rule"] == "Inbound round robin"
    assert a.reason["rules"][0]["rep"] == "Rep A"


def test_routing_the_same_leads_twice_changes_nothing(team_of_three):
    leads = LeadFactory.create_batch(3)
    route(leads)
    again = route(leads)
    assert (again.assigned, again.skipped) == (0, 3)
    assert Assignment.objects.count() == 3


def test_the_rotation_and_daily_counts_live_in_the_database_between_batches(team_of_three):
    _, reps, rule = team_of_three
    leads = LeadFactory.create_batch(4)
    for lead in leads:  # one job per lead
        route([lead])
    assert owners_of(leads) == [reps[0].id, reps[1].id, reps[2].id, reps[0].id]
    assert RotationCursor.objects.get(pool_key=f"rule:{rule.id}").last_rep_id == reps[0].id
    counts = dict(RepDailyCount.objects.values_list("rep_id", "assigned"))
    assert counts == {reps[0].id: 2, reps[1].id: 1, reps[2].id: 1}


def test_capacity_counts_the_open_leads_already_in_the_database(team_of_three):
    _, reps, _ = team_of_three
    reps[0].capacity = 1
    reps[0].save()
    LeadFactory(status="assigned", owner=reps[0])
    leads = LeadFactory.create_batch(3)
    route(leads)
    assert reps[0].id not in owners_of(leads)


def test_daily_cap_is_kept_across_separate_jobs():
    team = TeamFactory()
    capped = RepFactory(team=team, daily_cap=2, capacity=50)
    other = RepFactory(team=team, capacity=50)
    RuleFactory(pool_team=team, strategy="direct")
    RulePoolRepFactory(rule=RuleFactory(pool_team=team, strategy="direct", priority=1), rep=capped)
    leads = LeadFactory.create_batch(3)
    for lead in leads:
        route([lead])
    assert owners_of(leads) == [capped.id, capped.id, other.id]
    assert RepDailyCount.objects.get(rep=capped).assigned == 2


def test_a_lead_no_rule_matches_is_unroutable_and_explained(team_of_three):
    _, _, rule = team_of_three
    RuleConditionFactory(rule=rule, field="country", op="equals", value="FR")
    lead = LeadFactory(country="DE")
    assert route([lead]).unroutable == 1
    lead.refresh_from_db()
    assert (lead.status, lead.owner_id) == ("unroutable", None)
    a = Assignment.objects.get(lead=lead)
    assert (a.outcome, a.rule_id, a.rep_id) == ("unroutable", None, None)
    assert a.reason["rules"] == [{"rule": rule.name, "failed": "country equals FR"}]


def test_a_held_lead_waits_in_the_pool_and_the_sweep_routes_it_when_a_rep_frees_up():
    team = TeamFactory()
    rep = RepFactory(team=team, capacity=1)
    rule = RuleFactory(pool_team=team, when_none_eligible="hold")
    busy = LeadFactory(status="assigned", owner=rep)
    lead = LeadFactory()
    route([lead])
    lead.refresh_from_db()
    assert (lead.status, lead.pool_rule_id, lead.owner_id) == ("pooled", rule.id, None)
    assert leads_route_pending(everything=True).routed.unchanged == 1  # still held: no new row
    assert Assignment.objects.filter(lead=lead).count() == 1
    Lead.objects.filter(id=busy.id).update(status="converted")
    leads_route_pending(everything=True)
    lead.refresh_from_db()
    assert (lead.status, lead.owner_id) == ("assigned", rep.id)
    first, second = Assignment.objects.filter(lead=lead).order_by("id")
    assert (first.outcome, first.end_reason, second.outcome) == ("pooled", "rerouted", "assigned")


def test_one_bad_lead_does_not_sink_its_batch(team_of_three):
    _, _, rule = team_of_three
    RuleConditionFactory(rule=rule, field="extra.plan", op="not_equals", value="free")
    good = LeadFactory.create_batch(2, extra={"plan": "pro"})
    bad = LeadFactory(extra=["not", "an", "object"])  # e.g. a broken import row
    result = route([good[0], bad, good[1]])
    assert result.assigned == 2 and list(result.failed) == [bad.id]
    bad.refresh_from_db()
    assert bad.status == "pending" and "AttributeError" in bad.routing_error
    assert all(owners_of(good))


def test_a_broken_rule_set_leaves_leads_pending_with_the_reason():
    rule = RuleFactory(pool_team=TeamFactory())
    RuleConditionFactory(rule=rule, field="country", op="in_territory", value="Atlantis")
    lead = LeadFactory()
    result = route([lead])
    lead.refresh_from_db()
    assert lead.status == "pending"
    assert "unknown territory 'Atlantis'" in lead.routing_error == result.failed[lead.id]


def test_nested_territories_route_to_the_most_specific_reps():
    emea = TerritoryFactory(name="EMEA", countries=[])
    dach = TerritoryFactory(name="DACH", parent=emea, countries=["DE", "AT", "CH"])
    germany = TerritoryFactory(name="Germany", parent=dach, countries=["DE"])
    dach_rep = RepFactory(territories=[dach])
    de_rep = RepFactory(territories=[germany])
    RuleFactory(pool_matched_territory=True)
    austrian, german = LeadFactory(country="AT", region=""), LeadFactory(country="DE")
    route([austrian, german])
    assert owners_of([austrian, german]) == [dach_rep.id, de_rep.id]


def test_existing_owner_of_the_account_gets_the_lead_first(team_of_three):
    _, reps, _ = team_of_three
    AccountFactory(domain="globex.example", owner=reps[2])
    lead = LeadFactory(email="hank@globex.example")
    route([lead])
    assert owners_of([lead]) == [reps[2].id]
    assert Assignment.objects.get(lead=lead).strategy == "existing_owner"


def test_a_lead_flagged_misrouted_is_routed_again_to_someone_else(team_of_three, django_capture_on_commit_callbacks):
    _, reps, _ = team_of_three
    lead = LeadFactory()
    route([lead])
    assert owners_of([lead]) == [reps[0].id]
    with django_capture_on_commit_callbacks(execute=True):
        lead_event_record(lead_id=lead.id, type="misrouted")
    run_routing_jobs()
    lead.refresh_from_db()
    assert lead.status == "assigned" and lead.owner_id != reps[0].id
    latest = Assignment.objects.filter(lead=lead).order_by("-id").first()
    skipped = latest.reason["rules"][0]["skipped"]
    assert {"rep": "Rep A", "rep_id": reps[0].id, "reason": "excluded"} in skipped


def test_leads_are_routed_only_after_the_transaction_that_stored_them_commits(
    team_of_three, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        lead = LeadFactory()
        leads_enqueue_routing([lead.id])
        lead.refresh_from_db()
        assert lead.status == "pending"  # nothing happens before commit
    run_routing_jobs()
    # one routing hand-off (routing then adds the outbox's own after its commit)
    assert sum(c.func.__module__ == "routing.services.enqueue" for c in callbacks) == 1
    lead.refresh_from_db()
    assert lead.status == "assigned"


def test_enqueueing_never_fails_the_caller_when_redis_is_down(
    team_of_three, monkeypatch, django_capture_on_commit_callbacks
):
    import redis
    from rq import Queue

    dead = Queue("routing", connection=redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=1))
    monkeypatch.setattr("routing.services.enqueue.django_rq.get_queue", lambda *a, **k: dead)
    lead = LeadFactory()
    with django_capture_on_commit_callbacks(execute=True):
        leads_enqueue_routing([lead.id])  # logs, does not raise
    lead.refresh_from_db()
    assert lead.status == "pending"
    call_command("route_pending", "--all", stdout=open("/dev/null", "w"))
    lead.refresh_from_db()
    assert lead.status == "assigned"


def test_route_pending_leaves_fresh_leads_to_their_own_job(team_of_three):
    old, fresh = LeadFactory(), LeadFactory()
    Lead.objects.filter(id=old.id).update(updated_at=timezone.now() - dt.timedelta(minutes=10))
    result = leads_route_pending(grace_seconds=120)
    assert result.routed.assigned == 1
    assert [lead.status for lead in Lead.objects.filter(id__in=[old.id, fresh.id]).order_by("id")] == [
        "assigned",
        "pending",
    ]


def test_routing_a_batch_takes_the_same_number_of_queries_whatever_its_size():
    team = TeamFactory()
    RepFactory(team=team, capacity=100, daily_cap=100)  # one owner: SQLite writes one group
    RuleFactory(pool_team=team)
    route(LeadFactory.create_batch(3))  # first call creates the rule-set row and the cursor
    small, large = LeadFactory.create_batch(3), LeadFactory.create_batch(40)
    with CaptureQueriesContext(connection) as few:
        route(small)
    with CaptureQueriesContext(connection) as many:
        route(large)
    assert len(many) == len(few)


def test_ops_can_reassign_leads_and_the_audit_names_them(team_of_three, admin_user):
    _, reps, _ = team_of_three
    lead = LeadFactory()
    route([lead])
    moved = leads_reassign(lead_ids=[lead.id], rep_id=reps[2].id, user=admin_user)
    assert moved == [lead.id]
    old, new = Assignment.objects.filter(lead=lead).order_by("id")
    assert (old.end_reason, old.ended_at is not None) == ("reassigned", True)
    assert (new.rep_id, new.decided_by, new.decided_by_user, new.strategy) == (reps[2].id, "user", admin_user, "manual")
    assert new.reason["from"] == "Rep A"


def test_reassigning_to_an_inactive_or_full_rep_is_refused(team_of_three, admin_user):
    _, reps, _ = team_of_three
    lead = LeadFactory()
    reps[1].active = False
    reps[1].save()
    with pytest.raises(RoutingError, match="inactive"):
        leads_reassign(lead_ids=[lead.id], rep_id=reps[1].id, user=admin_user)
    reps[2].capacity = 0
    reps[2].save()
    with pytest.raises(RoutingError, match="capacity"):
        leads_reassign(lead_ids=[lead.id], rep_id=reps[2].id, user=admin_user)


def test_pool_members_claim_pooled_leads_up_to_the_claim_limit():
    team = TeamFactory()
    ana, bo = RepFactory(team=team), RepFactory(team=team)
    outsider = RepFactory()
    RuleFactory(pool_team=team, strategy="pool", claim_limit=1)
    first, second = LeadFactory(), LeadFactory()
    assert route([first, second]).pooled == 2
    with pytest.raises(RoutingError, match="not in the pool"):
        lead_claim(lead_id=first.id, rep_id=outsider.id)
    claim = lead_claim(lead_id=first.id, rep_id=ana.id)
    assert (claim.rep_id, claim.strategy, claim.outcome) == (ana.id, "pool_claim", "assigned")
    with pytest.raises(RoutingConflict):
        lead_claim(lead_id=first.id, rep_id=bo.id)  # first claim won
    with pytest.raises(RoutingError, match="as many unworked leads"):
        lead_claim(lead_id=second.id, rep_id=ana.id)
    assert lead_claim(lead_id=second.id, rep_id=bo.id).rep_id == bo.id


def test_released_leads_go_back_to_routing_without_that_rep(
    team_of_three, admin_user, django_capture_on_commit_callbacks
):
    _, reps, _ = team_of_three
    lead = LeadFactory()
    route([lead])
    with django_capture_on_commit_callbacks(execute=True):
        assert leads_release(lead_ids=[lead.id], user=admin_user) == [lead.id]
    run_routing_jobs()
    lead.refresh_from_db()
    assert lead.status == "assigned" and lead.owner_id not in (None, reps[0].id)


def test_a_deactivated_rep_gets_nothing_and_hands_back_only_leads_not_yet_contacted(
    team_of_three, django_capture_on_commit_callbacks
):
    _, reps, _ = team_of_three
    leads = LeadFactory.create_batch(6)
    route(leads)
    theirs = [lead.id for lead in leads if owners_of([lead]) == [reps[0].id]]
    assert len(theirs) == 2
    Lead.objects.filter(id=theirs[0]).update(first_contacted_at=timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        result = rep_routing_update(rep_id=reps[0].id, changes={"active": False})
    run_routing_jobs()
    assert result.handed_back == [theirs[1]]
    assert Lead.objects.get(id=theirs[0]).owner_id == reps[0].id  # contacted: stays with her
    assert Lead.objects.get(id=theirs[1]).owner_id in {reps[1].id, reps[2].id}
    ended = Assignment.objects.get(lead_id=theirs[1], rep=reps[0])
    assert ended.end_reason == "deactivated"
    more = LeadFactory.create_batch(4)
    route(more)
    assert reps[0].id not in owners_of(more)


@pytest.mark.parametrize("hand_back, moved", [("all", 2), ("none", 0)])
def test_deactivation_can_hand_back_all_open_leads_or_none(
    team_of_three, django_capture_on_commit_callbacks, hand_back, moved
):
    _, reps, _ = team_of_three
    leads = LeadFactory.create_batch(6)
    route(leads)
    Lead.objects.filter(owner=reps[0]).update(first_contacted_at=timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        result = rep_routing_update(rep_id=reps[0].id, changes={"active": False}, hand_back=hand_back)
    run_routing_jobs()
    assert len(result.handed_back) == moved
    assert Lead.objects.filter(owner=reps[0]).count() == 2 - moved
    assert not Rep.objects.get(id=reps[0].id).active


def test_leads_of_a_rep_on_time_off_stay_unless_their_team_hands_them_back(
    team_of_three, django_capture_on_commit_callbacks
):
    team, reps, _ = team_of_three
    leads = LeadFactory.create_batch(6)
    route(leads)
    hers = [lead.id for lead in leads if owners_of([lead]) == [reps[1].id]]
    Lead.objects.filter(id=hers[0]).update(first_contacted_at=timezone.now())
    TimeOffFactory(rep=reps[1], start=timezone.now() - dt.timedelta(minutes=30))
    with django_capture_on_commit_callbacks(execute=True):
        result = leads_route_pending()
    assert result.redistributed == 0
    assert "leads of reps on time off stay with them (no team hands them back)" in result.summary()
    team.away_hand_back_after_minutes = 60
    team.save()
    with django_capture_on_commit_callbacks(execute=True):
        assert leads_route_pending().redistributed == 0  # away for 30 minutes: inside the grace period
    team.away_hand_back_after_minutes = 20
    team.save()
    with django_capture_on_commit_callbacks(execute=True):
        result = leads_route_pending()
    run_routing_jobs()
    assert result.redistributed == 1
    assert "1 lead not yet contacted handed back from reps on time off past their team's grace period (Inbound)" in (
        result.summary()
    )
    assert owners_of([Lead(id=hers[0]), Lead(id=hers[1])])[0] == reps[1].id
    assert owners_of([Lead(id=hers[1])])[0] not in (None, reps[1].id)
    assert Assignment.objects.get(lead_id=hers[1], rep=reps[1]).end_reason == "away"


def test_performance_routing_reads_each_reps_trailing_conversion_rate():
    team = TeamFactory()
    closer, learner = RepFactory(team=team, capacity=100), RepFactory(team=team, capacity=100)
    for _ in range(4):  # closer converted 4 of 4 recent leads, learner none of 4
        AssignmentFactory(rep=closer, lead=LeadFactory(status="converted", owner=closer))
        AssignmentFactory(rep=learner, lead=LeadFactory(status="lost", owner=learner))
    RuleFactory(pool_team=team, strategy="performance")
    leads = LeadFactory.create_batch(11)
    route(leads)
    # Weights 1.0 against the 0.1 floor: ten to one.
    assert Counter(owners_of(leads)) == {closer.id: 10, learner.id: 1}


def test_the_sweep_works_through_a_backlog_slice_by_slice_past_leads_that_fail(team_of_three, monkeypatch, settings):
    _, reps, rule = team_of_three
    Rep.objects.filter(id__in=[r.id for r in reps]).update(capacity=100, daily_cap=100)
    RuleConditionFactory(rule=rule, field="extra.plan", op="not_equals", value="free")
    settings.ROUTING_BATCH_SIZE = 1
    monkeypatch.setattr("routing.services.sweep.SWEEP_BATCH_SIZE", 2)  # slices of 20 ids
    leads = LeadFactory.create_batch(45, extra={})
    bad = leads[7]
    Lead.objects.filter(id=bad.id).update(extra=["broken"])
    result = leads_route_pending(everything=True)
    assert (result.routed.assigned, list(result.routed.failed)) == (44, [bad.id])
    assert Lead.objects.filter(status="pending").count() == 1


def test_a_routing_job_takes_the_backlog_and_the_next_job_finds_its_leads_routed(team_of_three):
    from routing.jobs import route_leads_job

    _, reps, _ = team_of_three
    first, second = LeadFactory.create_batch(2), LeadFactory.create_batch(2)
    done = route_leads_job([lead.id for lead in first])
    assert (done["assigned"], done["skipped"]) == (4, 0)
    assert owners_of(first + second) == [reps[0].id, reps[1].id, reps[2].id, reps[0].id]
    with CaptureQueriesContext(connection) as queries:
        again = route_leads_job([lead.id for lead in second])
    assert (again["assigned"], again["skipped"]) == (0, 2)
    assert not any("pg_advisory" in q["sql"] or "routing_rule" in q["sql"] for q in queries.captured_queries)
    assert Assignment.objects.filter(lead__in=first + second).count() == 4


def test_a_routing_job_fills_its_batch_with_the_oldest_pending_leads_only(team_of_three, settings):
    from routing.jobs import route_leads_job

    settings.ROUTING_BATCH_SIZE = 3
    oldest, failing, older, own, newer = LeadFactory.create_batch(5)
    Lead.objects.filter(id=failing.id).update(routing_error="AttributeError: broken")  # left to the sweep
    result = route_leads_job([own.id])
    assert result["assigned"] == 3
    statuses = dict(
        Lead.objects.filter(id__in=[oldest.id, failing.id, older.id, own.id, newer.id]).values_list("id", "status")
    )
    assert [statuses[lead.id] for lead in (oldest, failing, older, own, newer)] == [
        "assigned",
        "pending",
        "assigned",
        "assigned",
        "pending",
    ]


def test_routing_given_leads_routes_only_those(team_of_three):
    asked, other = LeadFactory(), LeadFactory()
    assert route([asked]).assigned == 1
    other.refresh_from_db()
    assert other.status == "pending"
