"""Replay leads through the routing engine over a period: simulation and the demo's history.

The same engine the router runs (routing/engine/) decides each lead at its creation time, in
creation order, from the state at the period's start, moving that state forward as live
routing would: open leads per rep (an assignment stays open until the lead's real close, or
the period's end), daily counts per rep-local day, rotation cursors, the idle-longest clock.
Time off and working hours are judged at each lead's creation time. Nothing here writes.

- `ReplaySetup.from_document(...)` turns a routing document (the routing-file format: the current
  set-up, a draft file or a stored version) into the engine's dataclasses, with the database ids
  of the names it knows, so rotation cursors and reps line up with what really happened.
- `ReplayStart.load(...)` reads the state at a moment from the audit trail.
- `Replay` decides leads one after another (`decide(facts, at=, closes_at=)`); a replay that writes
  its decisions (the demo's history, leadops/demo.py) also tells it when each lead closes and which
  leads people moved (`closes`, `given_by_hand`).
"""

from __future__ import annotations

import bisect
import datetime as dt
import heapq
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from django.db.models import Max, Q
from django.db.models.functions import Lower

from leadops.models import Account, Lead, LeadStatus
from reps.models import Rep, SkillTag, Team
from routing import selectors
from routing.engine import (
    MATCHED,
    ROUND_ROBIN,
    Condition,
    Decision,
    LeadFacts,
    PoolCursor,
    RepState,
    RoutingEngine,
    RoutingSnapshot,
    RuleSetSettings,
    RuleSpec,
    TerritorySpec,
)
from routing.models import Assignment, Rule, RuleSet, Territory
from routing.services.snapshot import PERFORMANCE_WINDOW, routing_working_hours

FAR_FUTURE = dt.datetime.max.replace(tzinfo=dt.UTC)


def _ids(names, known: dict[str, int], start: int) -> dict[str, int]:
    """Database ids for known names; new names get ids above every stored one, in document order."""
    out, next_id = {}, start
    for name in names:
        if name in known:
            out[name] = known[name]
        else:
            next_id += 1
            out[name] = next_id
    return out


def _max_id(model) -> int:
    return model.objects.aggregate(m=Max("id"))["m"] or 0


@dataclass
class ReplaySetup:
    """A routing document as the engine's plain data, with name ↔ id maps for reading results back."""

    rules: list[RuleSpec]
    territories: list[TerritorySpec]
    reps: dict[int, RepState]
    existing_owner_first: bool
    rep_email: dict[int, str]
    rule_name: dict[int, str]
    version: int | None = None

    @classmethod
    def from_document(
        cls, document: dict, *, existing_owner_first: bool | None = None, version: int | None = None
    ) -> ReplaySetup:
        skills = _ids(document["skills"], dict(SkillTag.objects.values_list("name", "id")), _max_id(SkillTag))
        teams = _ids(
            [t["name"] for t in document["teams"]], dict(Team.objects.values_list("name", "id")), _max_id(Team)
        )
        stored_territories = dict(Territory.objects.values_list("name", "id"))
        territories = _ids([t["name"] for t in document["territories"]], stored_territories, _max_id(Territory))
        reps = _ids([r["email"] for r in document["reps"]], dict(Rep.objects.values_list("email", "id")), _max_id(Rep))
        rules = _ids(
            [r["name"] for r in document["rules"]], dict(Rule.objects.values_list("name", "id")), _max_id(Rule)
        )
        if existing_owner_first is None:
            existing_owner_first = RuleSet.current().existing_owner_first
        return cls(
            rules=[_rule_spec(r, rules, teams, territories, reps, skills) for r in document["rules"]],
            territories=[
                TerritorySpec(
                    territories[t["name"]],
                    t["name"],
                    territories.get(t["parent"]) if t.get("parent") else None,
                    frozenset(c.upper() for c in t.get("countries", [])),
                    frozenset(t.get("regions", [])),
                    tuple(t.get("postal_prefixes", [])),
                )
                for t in document["territories"]
            ],
            reps={reps[r["email"]]: _rep_state(r, reps, teams, territories, skills) for r in document["reps"]},
            existing_owner_first=existing_owner_first,
            rep_email={rid: email for email, rid in reps.items()},
            rule_name={rid: name for name, rid in rules.items()},
            version=version,
        )


def _rule_spec(r: dict, rules, teams, territories, reps, skills) -> RuleSpec:
    pool = r.get("pool") or {}
    territory = pool.get("territory")
    return RuleSpec(
        id=rules[r["name"]],
        name=r["name"],
        priority=r.get("priority", 100),
        conditions=[Condition(c["field"], c["op"], c.get("value")) for c in r.get("conditions", [])],
        rep_ids=[reps[e] for e in pool.get("reps", []) if e in reps],
        team_id=teams.get(pool.get("team")) if pool.get("team") else None,
        territory_id=MATCHED if territory == MATCHED else (territories.get(territory) if territory else None),
        required_skill_ids=frozenset(skills[s] for s in r.get("required_skills", []) if s in skills),
        preferred_skill_ids=frozenset(skills[s] for s in r.get("preferred_skills", []) if s in skills),
        strategy=r.get("strategy", ROUND_ROBIN),
        when_none_eligible=r.get("when_none_eligible", "next_rule"),
        requires_working_hours=r.get("requires_working_hours", False),
        claim_limit=r.get("claim_limit"),
        active=r.get("active", True),
    )


def _rep_state(r: dict, reps, teams, territories, skills) -> RepState:
    return RepState(
        id=reps[r["email"]],
        name=r.get("name") or r["email"],
        active=r.get("active", True),
        team_id=teams.get(r.get("team")) if r.get("team") else None,
        territory_ids=frozenset(territories[t] for t in r.get("territories", []) if t in territories),
        capacity=r.get("capacity", 100),
        daily_cap=r.get("daily_cap", 50),
        weight=float(r.get("weight", 1.0)),
        timezone=r.get("timezone") or "UTC",
        working_hours=routing_working_hours(r.get("working_hours")),
        time_off=tuple(
            (dt.datetime.fromisoformat(p["start"]), dt.datetime.fromisoformat(p["end"])) for p in r.get("time_off", [])
        ),
        skills={skills[name]: level for name, level in (r.get("skills") or {}).items() if name in skills},
    )


@dataclass
class ReplayStart:
    """The routing state at a moment, read from the audit trail (empty: a company's first day)."""

    at: dt.datetime
    open_until: dict[int, list[dt.datetime]] = field(default_factory=dict)  # rep id -> when each open lead closes
    assigned_on_day: dict[int, list[dt.datetime]] = field(default_factory=dict)  # rep id -> engine assignment times
    last_assigned_at: dict[int, dt.datetime] = field(default_factory=dict)
    last_rep_of_pool: dict[str, int] = field(default_factory=dict)  # round-robin cursors
    conversion_rates: dict[int, float] = field(default_factory=dict)
    earlier_owners: dict[str, int] = field(default_factory=dict)
    account_owners: dict[str, int] = field(default_factory=dict)

    @classmethod
    def load(cls, *, at: dt.datetime, emails: set[str] = frozenset(), emails_of=None) -> ReplayStart:
        """A fixed number of queries: assignments open at `at`, the day before it, pools' last turns.

        Earlier owners are looked up for `emails`, or for the emails of the leads in `emails_of` (a Lead
        queryset, read as a subquery: a month of leads would not fit one IN list).
        """
        start = cls(at=at)
        open_rows = (
            Assignment.objects.filter(outcome=Assignment.Outcome.ASSIGNED, created_at__lt=at)
            .exclude(ended_at__lte=at)
            .exclude(lead__closed_at__lte=at, lead__status__in=[LeadStatus.CONVERTED, LeadStatus.LOST])
            .values_list("rep_id", "ended_at", "lead__status", "lead__closed_at")
        )
        for rep_id, ended_at, status, closed_at in open_rows.iterator(chunk_size=5000):
            closes = [
                t for t in (ended_at, closed_at if status in (LeadStatus.CONVERTED, LeadStatus.LOST) else None) if t
            ]
            start.open_until.setdefault(rep_id, []).append(min(closes) if closes else FAR_FUTURE)
        day_rows = Assignment.objects.filter(
            outcome=Assignment.Outcome.ASSIGNED,
            decided_by=Assignment.DecidedBy.ENGINE,
            created_at__gte=at - dt.timedelta(hours=38),
            created_at__lt=at,
        ).values_list("rep_id", "created_at")
        for rep_id, created_at in day_rows:
            start.assigned_on_day.setdefault(rep_id, []).append(created_at)
        start.last_assigned_at = dict(  # as Rep.last_assigned_at: moved by the router only, not by claims
            Assignment.objects.filter(
                outcome=Assignment.Outcome.ASSIGNED, decided_by=Assignment.DecidedBy.ENGINE, created_at__lt=at
            )
            .values_list("rep_id")
            .annotate(last=Max("created_at"))
            .order_by()
        )
        start.last_rep_of_pool = _last_round_robin_turns(at)
        start.conversion_rates = selectors.rep_conversion_rates(since=at - PERFORMANCE_WINDOW)
        if emails or emails_of is not None:
            if emails_of is not None:
                # Intake stores emails lower-cased; a mixed-case one also finds its lower-cased twin.
                wanted = Q(email__in=emails_of.exclude(email="").values("email")) | Q(
                    email__in=emails_of.exclude(email="").annotate(lowered=Lower("email")).values("lowered")
                )
            else:
                wanted = Q(email__in=emails)
            rows = (
                Lead.objects.filter(wanted, owner_id__isnull=False, created_at__lt=at)
                .order_by("email", "-assigned_at", "-id")
                .values_list("email", "owner_id")
            )
            for email, owner_id in rows.iterator(chunk_size=10_000):
                start.earlier_owners.setdefault(email.lower(), owner_id)
        start.account_owners = dict(Account.objects.exclude(owner_id=None).values_list("domain", "owner_id"))
        return start


# How far back a replay looks for a round-robin pool's last turn: a rule that assigned nothing for longer
# starts its rotation afresh in a replay (live, its cursor remembers).
ROUND_ROBIN_LOOKBACK = dt.timedelta(days=7)


def _last_round_robin_turns(at: dt.datetime, window: dt.timedelta = ROUND_ROBIN_LOOKBACK) -> dict[str, int]:
    """Each round-robin pool's last turn in the week before `at`, as the live cursor held it then.

    A rule's own pool: its last assignment. A "matched territory" rule has one pool per
    territory level; the trace of each recent assignment names the level.
    """
    recent = Assignment.objects.filter(
        outcome=Assignment.Outcome.ASSIGNED,
        strategy=ROUND_ROBIN,
        rule_id__isnull=False,
        created_at__gte=at - window,
        created_at__lt=at,
    )
    matched = set(Rule.objects.filter(pool_matched_territory=True).values_list("id", flat=True))
    last_ids = recent.exclude(rule_id__in=matched).values("rule_id").annotate(last=Max("id")).values("last")
    turns = {
        f"rule:{rule_id}": rep_id
        for rule_id, rep_id in Assignment.objects.filter(id__in=last_ids).values_list("rule_id", "rep_id")
    }
    rows = recent.filter(rule_id__in=matched).order_by("-created_at", "-id").values_list("rule_id", "reason")
    for rule_id, reason in rows.iterator(chunk_size=2000):
        for entry in (reason or {}).get("rules", []):
            if isinstance(entry, dict) and entry.get("result") == "assigned" and entry.get("rule_id") == rule_id:
                key = f"rule:{rule_id}"
                if entry.get("territory_id") is not None:
                    key += f":territory:{entry['territory_id']}"
                turns.setdefault(key, entry.get("rep_id"))
    return turns


class Replay:
    """Decide leads in creation order, each at its creation time, under one set-up.

    The engine remembers pools where nobody could take a lead until a load goes down, and the
    replay tells it when one does (a lead closes, a rep-local day starts, a lead given by hand).
    So reps' open leads and daily counts move only through `decide`, `closes` and `given_by_hand`,
    never by hand on `setup.reps`.
    """

    def __init__(self, setup: ReplaySetup, start: ReplayStart, *, until: dt.datetime | None = None):
        self.setup = setup
        reps = setup.reps
        self._closing: list[tuple[dt.datetime, int]] = []
        for rep_id, closes in start.open_until.items():
            if rep_id in reps:
                reps[rep_id].open_leads = len(closes)
                self._closing += [(t, rep_id) for t in closes if t != FAR_FUTURE]
        heapq.heapify(self._closing)
        for rep in reps.values():
            rep.last_assigned_at = start.last_assigned_at.get(rep.id)
            rep.conversion_rate = start.conversion_rates.get(rep.id)
        self._zones = {}
        for rep in reps.values():
            self._zones.setdefault(rep.timezone, []).append(rep)
        # Next local midnight per zone: daily counts start again there.
        self._midnight: dict[str, dt.datetime] = {}
        for zone, members in self._zones.items():
            local = start.at.astimezone(ZoneInfo(zone))
            day = local.date()
            for rep in members:
                rep.assigned_today = sum(
                    1 for t in start.assigned_on_day.get(rep.id, ()) if t.astimezone(ZoneInfo(zone)).date() == day
                )
            self._midnight[zone] = _next_midnight(local)
        settings = RuleSetSettings(existing_owner_first=setup.existing_owner_first, version=setup.version)
        snapshot = RoutingSnapshot(
            now=start.at,
            rules=setup.rules,
            territories=setup.territories,
            reps=reps,
            cursors={key: PoolCursor(key, rep_id) for key, rep_id in start.last_rep_of_pool.items()},
            account_owners=start.account_owners,
            earlier_owners=start.earlier_owners,
            settings=settings,
        )
        self.engine = RoutingEngine(snapshot, remember_full_pools=True)
        days = ((until or start.at + dt.timedelta(days=31)) - start.at).days + 2
        self._changes = _static_changes(setup, start.at, days)
        self._next_change = 0
        self._next_midnight = min(self._midnight.values(), default=FAR_FUTURE)

    def decide(self, facts: LeadFacts, *, at: dt.datetime, closes_at: dt.datetime | None = None) -> Decision:
        """The decision the engine makes for `facts` at `at` (not before the previous lead's time).

        An assignment counts as open until `closes_at` (the lead's real close), else to the end.
        """
        self.advance(at)
        decision = self.engine.decide(facts)
        if decision.rep_id is not None and closes_at is not None:
            heapq.heappush(self._closing, (closes_at, decision.rep_id))
        return decision

    def advance(self, at: dt.datetime) -> None:
        """Bring the state to `at` (not before the last decision): leads closed by then leave their
        reps' load, daily counts start again at local midnight, time off and hours are judged again."""
        closing = self._closing
        if closing and closing[0][0] <= at:
            eased = []
            while closing and closing[0][0] <= at:
                _, rep_id = heapq.heappop(closing)
                self.setup.reps[rep_id].open_leads -= 1
                eased.append(rep_id)
            self.engine.reps_eased(eased)
        if at >= self._next_midnight:
            self._new_days(at)
        changes, recheck = self._changes, False
        if self._next_change < len(changes) and changes[self._next_change] <= at:
            self._next_change = bisect.bisect_right(changes, at, lo=self._next_change)
            recheck = True
        self.engine.move_to(at, recheck=recheck)

    # For a replay that writes what it decides (the demo's history), where what happens to a lead
    # is known only after its decision, and people move leads between decisions.
    def closes(self, rep_id: int, at: dt.datetime) -> None:
        """The lead just given to `rep_id` (by the engine or a person) leaves their load at `at`."""
        heapq.heappush(self._closing, (at, rep_id))

    def given_by_hand(self, rep_id: int, *, at: dt.datetime) -> None:
        """A person gave `rep_id` a lead at `at` (a claim from a pool, a hand reassignment): it counts
        towards their load, as live, but not towards the daily cap or the idle clock (the engine's)."""
        self.advance(at)
        self.setup.reps[rep_id].open_leads += 1
        # A rep at daily cap may now be at capacity too: the trace of a pool remembered as full
        # names the first refusal, so that pool is looked at again.
        self.engine.reps_eased([rep_id])

    def _new_days(self, at: dt.datetime) -> None:
        for zone, midnight in self._midnight.items():
            if at >= midnight:
                for rep in self._zones[zone]:
                    rep.assigned_today = 0
                self.engine.reps_eased(rep.id for rep in self._zones[zone])
                self._midnight[zone] = _next_midnight(at.astimezone(ZoneInfo(zone)))
        self._next_midnight = min(self._midnight.values())


def _next_midnight(local: dt.datetime) -> dt.datetime:
    zone = local.tzinfo
    day = local.date() + dt.timedelta(days=1)
    return dt.datetime(day.year, day.month, day.day, tzinfo=zone).astimezone(dt.UTC)


def _static_changes(setup: ReplaySetup, since: dt.datetime, days: int) -> list[dt.datetime]:
    """Moments at which some rep's time off or working hours start or end (sorted): the engine
    judges eligibility again there. Working hours count only when an active rule asks for them."""
    moments = set()
    for rep in setup.reps.values():
        for start, end in rep.time_off:
            moments.update(t for t in (start, end) if t > since)
    if any(r.requires_working_hours and r.active for r in setup.rules):
        shapes = {
            (r.timezone, r.working_hours.start, r.working_hours.end) for r in setup.reps.values() if r.working_hours
        }
        for zone, start, end in shapes:
            tz = ZoneInfo(zone)
            first = since.astimezone(tz).date()
            for n in range(days):
                day = first + dt.timedelta(days=n)
                for t in (start, end):
                    if t == dt.time.max:
                        moment = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=tz)
                    else:
                        moment = dt.datetime.combine(day, t, tzinfo=tz)
                    if moment > since:
                        moments.add(moment.astimezone(dt.UTC))
    return sorted(moments)
