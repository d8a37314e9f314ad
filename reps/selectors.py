"""Reads for a rep's own page (/queue/): my open leads with their SLA clocks, the pools I can take from.

Pool membership is always the engine's (`RoutingEngine.pool_rep_ids`), never worked out here.
Each read runs a fixed number of queries whatever the number of leads or pools.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Count, F, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from leadops.models import Lead, LeadEvent, LeadEventType, LeadStatus
from reps.models import Rep
from routing import selectors as routing_selectors
from routing.engine import RepState, RoutingEngine, claim_refusal
from routing.models import Assignment
from routing.reasons import assignment_causes, reason_html, reason_summary
from routing.services.snapshot import lead_facts, routing_snapshot_load

POOL_LEADS_SHOWN = 25  # per pool, oldest first; "Next lead" reaches the rest

# Why a claim is refused, said to the rep (the engine's refusal codes).
YOUR_REFUSALS = {
    "inactive": "you are marked inactive, so you cannot take leads",
    "on_time_off": "you are on time off, so you cannot take leads",
    "at_capacity": "you hold as many open leads as your capacity allows: close or release some first",
    "claim_limit_reached": "you hold as many uncontacted leads from this pool as its rule allows: contact them first",
}


@dataclass
class MyLead:
    lead: Lead
    assignment: Assignment | None  # the current one (who, which rule, the reason, the SLA)
    contacted_at: dt.datetime | None  # my first contact since it came to me
    why: str = ""  # why it came to me, one line (routing.reasons, the one renderer)
    why_html: str = ""  # the whole decision

    @property
    def sla_due_at(self) -> dt.datetime | None:
        # Assignment.sla_due_at arrives with the SLA watch; until then there is no clock to show.
        return getattr(self.assignment, "sla_due_at", None)

    @property
    def sla_state(self) -> str | None:
        """`met`, `late` (contacted after the due time), `overdue` (not contacted, past due), `running`."""
        due = self.sla_due_at
        if due is None:
            return None
        if self.contacted_at is not None:
            return "met" if self.contacted_at <= due else "late"
        return "overdue" if timezone.now() > due else "running"


@dataclass
class Pool:
    rule_id: int
    name: str
    claim_limit: int | None
    claimed_open: int
    waiting: int
    refusal: str | None  # why I may not claim from it now, in words; None: I may
    leads: list[Lead] = field(default_factory=list)

    @property
    def more(self) -> int:
        return self.waiting - len(self.leads)


@dataclass
class RepQueue:
    rep: Rep
    open_count: int
    my_leads: list[MyLead]
    pools: list[Pool]

    @property
    def pooled_waiting(self) -> int:
        return sum(p.waiting for p in self.pools)

    @property
    def can_pull(self) -> bool:
        return any(p.refusal is None and p.waiting for p in self.pools)


def queue_engine() -> RoutingEngine:
    """The engine over the current set-up and load, for reading pools (claims load their own, locked)."""
    snapshot, _ = routing_snapshot_load(now=timezone.now(), leads=[])
    return RoutingEngine(snapshot)


def rep_my_leads(*, rep: Rep, lead_ids: list[int] | None = None) -> list[MyLead]:
    """The rep's open leads, newest to them first, with the current assignment and first contact.

    Three queries, however many leads.
    """
    mine = Lead.objects.open() if lead_ids is None else Lead.objects.filter(id__in=lead_ids)
    mine = mine.filter(owner=rep)
    leads = list(mine.order_by(F("assigned_at").desc(nulls_last=True), "-id"))
    ids = [lead.id for lead in leads]
    history: dict[int, list[Assignment]] = {}
    for a in Assignment.objects.filter(lead_id__in=ids).select_related("rep").order_by("created_at", "id"):
        history.setdefault(a.lead_id, []).append(a)
    contacts: dict[int, list[dt.datetime]] = {}
    for lead_id, at in LeadEvent.objects.filter(lead_id__in=ids, rep=rep, type=LeadEventType.CONTACTED).values_list(
        "lead_id", "at"
    ):
        contacts.setdefault(lead_id, []).append(at)
    out = []
    for lead in leads:
        past = history.get(lead.id, [])
        assignment = next((a for a in reversed(past) if a.rep_id == rep.id and a.ended_at is None), None)
        cause = assignment_causes(past).get(assignment.id, "") if assignment else ""
        since = assignment.created_at if assignment else lead.assigned_at
        mine = sorted(at for at in contacts.get(lead.id, []) if since is None or at >= since)
        out.append(
            MyLead(
                lead=lead,
                assignment=assignment,
                contacted_at=mine[0] if mine else None,
                why=reason_summary(assignment.reason, cause=cause) if assignment else "",
                why_html=reason_html(assignment.reason, cause=cause) if assignment else "",
            )
        )
    return out


def _refusal_words(rep_state: RepState | None, rule, claimed: int, now: dt.datetime) -> str | None:
    if rep_state is None:
        return YOUR_REFUSALS["inactive"]
    code = claim_refusal(rep_state, rule=rule, open_claimed=claimed, now=now)
    return None if code is None else YOUR_REFUSALS.get(code, code.replace("_", " "))


def rep_pools(*, rep: Rep, engine: RoutingEngine, per_pool: int = POOL_LEADS_SHOWN) -> list[Pool]:
    """Every pool holding leads the rep may claim, with its oldest leads and whether I may claim now."""
    candidates = routing_selectors.rep_pooled_leads(rep_id=rep.id, engine=engine)
    waiting = dict(candidates.values_list("pool_rule_id").annotate(n=Count("id")).order_by())
    if not waiting:
        return []
    oldest = (
        candidates.annotate(
            place=Window(RowNumber(), partition_by=[F("pool_rule_id")], order_by=[F("created_at"), F("id")])
        )
        .filter(place__lte=per_pool)
        .order_by("created_at", "id")
    )
    shown: dict[int, list[Lead]] = {}
    for lead in oldest:
        shown.setdefault(lead.pool_rule_id, []).append(lead)
    due = _pooled_sla_due([lead.id for leads in shown.values() for lead in leads])
    for leads in shown.values():
        for lead in leads:
            lead.sla_due_at = due.get(lead.id)  # a pooled lead meets its SLA by being claimed
    claimed = routing_selectors.rep_claimed_open_counts(rep_id=rep.id, rule_ids=waiting)
    rules = {r.id: r for r in engine.snapshot.rules}
    rep_state = engine.snapshot.reps.get(rep.id)
    pools = []
    for rule_id, n in waiting.items():
        rule = rules[rule_id]
        pools.append(
            Pool(
                rule_id=rule_id,
                name=rule.name,
                claim_limit=rule.claim_limit,
                claimed_open=claimed.get(rule_id, 0),
                waiting=n,
                refusal=_refusal_words(rep_state, rule, claimed.get(rule_id, 0), engine.now),
                leads=shown.get(rule_id, []),
            )
        )
    return sorted(pools, key=lambda p: (rules[p.rule_id].priority, p.rule_id))


def _pooled_sla_due(lead_ids: list[int]) -> dict[int, dt.datetime]:
    if not lead_ids or not any(f.name == "sla_due_at" for f in Assignment._meta.get_fields()):
        return {}  # no SLA clocks before the SLA watch adds Assignment.sla_due_at
    return dict(
        Assignment.objects.filter(
            lead_id__in=lead_ids, outcome=Assignment.Outcome.POOLED, ended_at__isnull=True, sla_due_at__isnull=False
        ).values_list("lead_id", "sla_due_at")
    )


def rep_queue(*, rep: Rep) -> RepQueue:
    engine = queue_engine()
    state = engine.snapshot.reps.get(rep.id)
    return RepQueue(
        rep=rep,
        open_count=state.open_leads if state else 0,
        my_leads=rep_my_leads(rep=rep),
        pools=rep_pools(rep=rep, engine=engine),
    )


def rep_may_claim_from(*, rep: Rep, lead: Lead, engine: RoutingEngine) -> bool:
    """Whether the lead waits (or waited, if it was just taken) in a pool that includes the rep.

    A lead taken meanwhile is judged by the pool it was last held in, so the rep who lost the
    race is told so, while a rep outside that pool gets a 404 like for any lead not theirs.
    """
    rule_id = lead.pool_rule_id if lead.status == LeadStatus.POOLED else None
    if rule_id is None:
        rule_id = (
            Assignment.objects.filter(lead=lead, outcome=Assignment.Outcome.POOLED)
            .order_by("-created_at", "-id")
            .values_list("rule_id", flat=True)
            .first()
        )
    return rule_id is not None and rep.id in engine.pool_rep_ids(rule_id, lead_facts(lead))
