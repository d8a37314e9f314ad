"""seed_demo builds a believable company once; running it again creates nothing new."""

import datetime as dt
import io
from collections import Counter
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.db.models import Count, Exists, F, Min, OuterRef, Q
from django.utils import timezone

from leadops.demo import (
    ADMIN_PASSWORD,
    ADMIN_USERNAME,
    MANAGER_PASSWORD,
    MANAGER_USERNAME,
    REP_PASSWORD,
    REP_USERNAME,
    demo_seed,
)
from leadops.models import Account, Integration, Lead, LeadEvent
from reps.models import Rep, RepSkill, Team, TimeOff
from routing.models import Assignment, Operator, RepDailyCount, Rule, RuleCondition, RuleSet, Strategy, Territory
from routing.reasons import reason_text

pytestmark = pytest.mark.django_db
MODELS = [
    Team,
    Rep,
    RepSkill,
    TimeOff,
    Territory,
    Rule,
    RuleCondition,
    Lead,
    Assignment,
    LeadEvent,
    Account,
    Integration,
    RepDailyCount,
]


def seed() -> str:
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def counts() -> dict:
    return {model.__name__: model.objects.count() for model in MODELS}


def test_running_it_twice_creates_nothing_new_and_the_printed_passwords_work():
    first_output = seed()
    first = counts()
    second_output = seed()
    assert counts() == first
    assert "nothing new created" in second_output
    for output in (first_output, second_output):
        assert f"{ADMIN_USERNAME} / {ADMIN_PASSWORD}" in output and f"{MANAGER_USERNAME} / {MANAGER_PASSWORD}" in output
        assert f"{REP_USERNAME} / {REP_PASSWORD}" in output
    admin = authenticate(username=ADMIN_USERNAME, password=ADMIN_PASSWORD)
    manager = authenticate(username=MANAGER_USERNAME, password=MANAGER_PASSWORD)
    assert admin.is_superuser and admin.is_staff
    assert manager.has_perm("reports.view_reports") and manager.groups.filter(name="Managers").exists()
    assert not manager.is_superuser
    rep_user = authenticate(username=REP_USERNAME, password=REP_PASSWORD)
    assert not rep_user.is_staff and rep_user.rep.team.name == "Inbound SDR"  # a member of a pool team
    # `make demo` routes the pending leads: the demo rep then has leads to claim on /queue/.
    from reps.selectors import rep_queue
    from routing.services import leads_route

    leads_route(lead_ids=Lead.objects.filter(external_id__startswith="demo-pool-").values_list("id", flat=True))
    assert rep_queue(rep=rep_user.rep).pooled_waiting >= 6


def test_demo_meets_the_minimums_and_its_history_holds_together():
    seed()
    now = timezone.now()
    assert Team.objects.count() >= 3
    reps = Rep.objects.all()
    assert reps.count() >= 25
    assert len({r.capacity for r in reps}) >= 5 and {float(r.weight) for r in reps} >= {0.5, 1.0}
    assert RepSkill.objects.values("proficiency").distinct().count() >= 4
    assert TimeOff.objects.filter(start__lte=now, end__gt=now).exists()  # someone is away right now
    assert Territory.objects.filter(parent__parent__isnull=False).exists()  # three levels: EMEA > DACH > Germany
    assert len({c for t in Territory.objects.all() for c in t.countries}) >= 10

    rules = Rule.objects.all()
    assert rules.count() >= 12
    assert set(rules.values_list("strategy", flat=True)) == set(Strategy.values)
    assert set(RuleCondition.objects.values_list("op", flat=True)) == set(Operator.values)

    leads = Lead.objects.all()
    assert leads.count() >= 5000
    oldest = leads.aggregate(first=Min("created_at"))["first"]
    assert now - dt.timedelta(days=91) < oldest < now - dt.timedelta(days=85)
    assert (
        leads.filter(status="pending").exists()
        and not leads.filter(status="pending", created_at__lt=now - dt.timedelta(hours=3)).exists()
    )
    statuses = set(leads.values_list("status", flat=True))
    assert {"assigned", "converted", "lost", "pending"} <= statuses
    assert set(LeadEvent.objects.values_list("type", flat=True)) >= {"contacted", "converted", "lost", "misrouted"}
    assert Assignment.objects.filter(decided_by="user", decided_by_user__isnull=False).exists()  # manual reassignments
    assert Account.objects.exists()

    # The history is consistent with itself. Each owned lead's owner is the rep of its latest assignment,
    # and nobody holds more open leads than capacity.
    for lead in Lead.objects.filter(owner__isnull=False).prefetch_related("assignments")[:500]:
        assert lead.assignments.all()[0].rep_id == lead.owner_id
    open_by_rep = dict(Lead.objects.open().values_list("owner").annotate(n=Count("id")))
    assert all(open_by_rep.get(rep.pk, 0) <= rep.capacity for rep in Rep.objects.all())
    # Timestamps follow one another: created → assigned → first contact → closed.
    for lead in Lead.objects.exclude(closed_at=None)[:500]:
        assert lead.created_at <= lead.assigned_at <= lead.closed_at
        assert lead.first_contacted_at is None or lead.assigned_at <= lead.first_contacted_at
    # Every assignment ended by a misrouted flag or a reassignment is followed by another one.
    ended = Assignment.objects.exclude(end_reason="").values_list("lead_id", flat=True)
    later = Assignment.objects.filter(lead_id__in=ended).values("lead_id").annotate(n=Count("id"))
    assert all(row["n"] >= 2 for row in later)
    contacted = Lead.objects.exclude(first_contacted_at=None).count()
    fast = sum(
        1
        for lead in Lead.objects.exclude(first_contacted_at=None).only("assigned_at", "first_contacted_at")
        if lead.first_contacted_at - lead.assigned_at <= dt.timedelta(minutes=5)
    )
    assert 0.05 < fast / contacted < 0.5  # speed-to-lead varies: some within 5 minutes, most not


def test_same_moment_gives_the_same_company():
    def snapshot() -> list:
        return list(
            Lead.objects.order_by("external_id").values_list(
                "external_id",
                "email",
                "company",
                "country",
                "city",
                "status",
                "owner__email",
                "created_at",
                "closed_at",
            )
        )

    demo_seed(now=MOMENT, lead_count=600)
    first = snapshot()
    Lead.objects.all().delete()
    Account.objects.all().delete()
    RepDailyCount.objects.all().delete()
    demo_seed(now=MOMENT, lead_count=600)
    history = [row for row in first if not row[0].startswith("demo-pool-")]  # the demo rep's pool leads apart
    assert snapshot() == first and len(history) == 600


# --- The history is the engine's (issue 9 part 5, issue 11 part 6) ------------------------------------
MOMENT = dt.datetime(2026, 11, 23, 15, 0, tzinfo=dt.UTC)  # a Monday afternoon


def assert_reads_without_fallback(trace: dict) -> None:
    """Every word of the trace is one the renderer has a label for: no slug shown as it is."""
    from routing.reasons import OPERATOR_LABELS, REFUSAL_LABELS, RESULT_LABELS, STRATEGY_LABELS, VIA_LABELS

    for step in trace.get("existing_owner", []):
        assert step["via"] in VIA_LABELS and step["result"] in {"assigned", *REFUSAL_LABELS}
    for entry in trace.get("rules", []):
        if "failed" in entry:  # the engine's "field op value" ("in_territory DACH"): an operator the renderer says
            words = entry["failed"].split(" ", 2)
            assert words[0] in ("in_territory", "email_domain_in") or words[1] in OPERATOR_LABELS, entry
            continue
        assert entry["result"].removesuffix("; held") in RESULT_LABELS
        assert entry.get("strategy") is None or entry["strategy"] in STRATEGY_LABELS
        levels = entry.get("territories", []) + entry.get("widened_from", [])
        for skip in entry.get("skipped", []) + [s for level in levels for s in level["skipped"]]:
            assert skip["reason"] in REFUSAL_LABELS
    assert "_" not in reason_text(trace)


def test_every_demo_assignment_carries_the_trace_live_routing_writes():
    from routing.engine import STRATEGIES
    from routing.tests.test_engine_trace import assert_is_a_trace

    demo_seed(now=MOMENT, lead_count=1500)
    history = Assignment.objects.filter(lead__external_id__startswith="demo-").select_related("rep", "rule")
    assert history.count() >= 1500
    version, seen = RuleSet.current().version, Counter()
    for assignment in history:
        trace = assignment.reason
        assert_is_a_trace(trace)  # the engine's type, with its version field
        assert_reads_without_fallback(trace)
        assert trace["outcome"] == assignment.outcome and assignment.rule_set_version == version
        seen[assignment.strategy] += 1
        if assignment.decided_by != "engine" or assignment.outcome == "unroutable":
            continue
        if assignment.rule_id is None:  # the existing owner took it
            assert trace["existing_owner"][-1]["rep_id"] == assignment.rep_id
            continue
        deciding = trace["rules"][-1]  # the engine names the rule that decided last, with its rep
        assert deciding["rule_id"] == assignment.rule_id and deciding["rule"] == assignment.rule_name
        assert deciding.get("rep_id") == assignment.rep_id
    # The engine's every strategy shows in the history, besides claims and hand moves.
    assert set(STRATEGIES) | {"pool_claim", "manual"} <= set(seen)
    assert seen["existing_owner"] > 0  # people who wrote again went to the rep who had them
    # It judged load, caps and time as it went: reps were passed over, and the words say why.
    skipped = Counter(
        skip["reason"]
        for trace in history.filter(decided_by="engine").values_list("reason", flat=True)
        for entry in trace["rules"]
        for skip in entry.get("skipped", [])
    )
    assert {"inactive", "on_time_off", "missing_skill", "outside_working_hours"} <= set(skipped)
    # The old stand-in's words ("email email domain is one of") are gone: the engine's condition text.
    assert not history.filter(reason__icontains="email domain is one of").exists()


def test_rerunning_the_engine_on_a_demo_leads_recorded_state_gives_the_recorded_owner():
    """A sample of first decisions, each decided again from the state replay reads from the audit trail
    at that lead's time: the same outcome, owner, rule and trace as the history recorded."""
    import random

    from routing.replay import ROUND_ROBIN_LOOKBACK, Replay, ReplaySetup, ReplayStart
    from routing.routing_file import routing_config_dump
    from routing.services.snapshot import lead_facts

    demo_seed(now=MOMENT, lead_count=1500)
    document, version = routing_config_dump(), RuleSet.current().version
    shared = {e for e, n in Counter(Lead.objects.values_list("email", flat=True)).items() if n > 1}
    turns = Assignment.objects.filter(
        rule=OuterRef("rule"), strategy="round_robin", created_at__lt=OuterRef("created_at")
    )
    recent = turns.filter(created_at__gte=OuterRef("created_at") - ROUND_ROBIN_LOOKBACK)
    firsts = list(
        Assignment.objects.filter(decided_by="engine", created_at=F("lead__created_at"))
        .exclude(lead__email__in=shared)  # an earlier lead's owner is read as it is now, not as it was
        .exclude(strategy__in=["weighted", "performance"])  # their rotation credit is not in the audit trail
        # A rotation whose last turn is older than the replay looks back starts afresh there.
        .exclude(Q(strategy="round_robin") & Exists(turns) & ~Exists(recent))
        .select_related("lead")
        .order_by("id")
    )
    sample = random.Random(7).sample(firsts, 60)
    assert {a.strategy for a in sample} >= {"round_robin", "load_balanced", "skill_score"}
    for assignment in sample:
        lead, at = assignment.lead, assignment.created_at
        start = ReplayStart.load(at=at, emails={lead.email})
        start.account_owners = {}  # the demo opens its accounts after the history (the owners of its leads)
        replay = Replay(ReplaySetup.from_document(document, version=version), start, until=at)
        decision = replay.decide(lead_facts(lead), at=at)
        recorded = (assignment.outcome, assignment.rep_id, assignment.rule_id)
        assert (decision.outcome, decision.rep_id, decision.rule_id) == recorded, lead.external_id
        assert decision.reason == assignment.reason


def test_live_routing_goes_on_from_where_the_history_left_off():
    """Rotation cursors and today's counts are the replay's end state: the pending leads `make demo`
    routes are decided from them, and nobody goes over a daily cap."""
    from routing.models import RotationCursor
    from routing.replay import ReplayStart
    from routing.services import leads_route

    demo_seed(now=MOMENT, lead_count=1500)
    cursors = dict(RotationCursor.objects.values_list("pool_key", "last_rep_id"))
    # Each round robin stopped where the audit trail says its last turn went (territory level by level).
    turns = ReplayStart.load(at=MOMENT).last_rep_of_pool
    assert len(turns) >= 5 and all(cursors[key] == rep_id for key, rep_id in turns.items())
    assert RotationCursor.objects.exclude(current_weights={}).exists()  # weighted rotations carry their credit
    today = {(c.rep_id, c.day): c.assigned for c in RepDailyCount.objects.all()}
    engine = Assignment.objects.filter(decided_by="engine", outcome="assigned").select_related("rep")
    counted = Counter((a.rep_id, a.created_at.astimezone(ZoneInfo(a.rep.timezone)).date()) for a in engine)
    assert today == dict(counted)
    assert all(n <= Rep.objects.get(id=rep_id).daily_cap for (rep_id, _), n in counted.items())
    pending = Lead.objects.filter(status="pending").values_list("id", flat=True)
    result = leads_route(lead_ids=list(pending))
    assert result.assigned + result.pooled + result.unroutable == len(pending)


def test_the_history_carries_live_sla_times_settled_as_the_sla_watch_settles_them():
    """Engine decisions and claims under a rule with an SLA are due when live routing would make them
    due; what fell due is settled. Wiped and judged again by the real SLA watch, the assignments still
    current come out the same (met at the same time, or breached)."""
    from routing.services.sla import sla_watch

    demo_seed(now=MOMENT, lead_count=1500)
    minutes = dict(Rule.objects.exclude(sla_minutes=None).values_list("id", "sla_minutes"))
    stamped = Assignment.objects.filter(rule_id__in=list(minutes)).exclude(outcome="unroutable")
    for a in stamped.exclude(strategy="manual"):
        assert a.sla_due_at == a.created_at + dt.timedelta(minutes=minutes[a.rule_id])
    assert not Assignment.objects.filter(strategy="manual").exclude(sla_due_at=None).exists()  # as leads_reassign
    due = Assignment.objects.filter(sla_due_at__lt=MOMENT - dt.timedelta(minutes=1))
    assert due.exclude(sla_met_at=None).exists() and due.exclude(sla_breached_at=None).exists()
    assert not due.filter(ended_at=None, sla_met_at=None, sla_breached_at=None).exists()  # nothing left behind
    breaches = LeadEvent.objects.filter(type="sla_breached")
    assert breaches.count() == Assignment.objects.exclude(sla_breached_at=None).count()

    def settled() -> dict:
        current = due.filter(ended_at=None).order_by("id")
        return {a.id: (a.sla_met_at, a.sla_breached_at is not None) for a in current}

    demo = settled()
    Assignment.objects.update(sla_met_at=None, sla_breached_at=None)
    breaches.delete()
    sla_watch(at=MOMENT)
    assert settled() == demo and any(breached for _, breached in demo.values())
