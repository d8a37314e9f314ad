"""The decision core: a compiled routing set-up that decides leads one after another.

`RoutingEngine(snapshot)` compiles the rules once (conditions into closures, rules indexed by
the text fact they test, pools resolved to rep lists); `engine.decide(lead)` returns a
Decision and moves the snapshot forward (open leads, today's count, rotation cursors) so the
next lead of the batch sees the state this one left. Same snapshot + same leads -> same
decisions: nothing here is random.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from operator import attrgetter
from zoneinfo import ZoneInfo

from .conditions import CompiledCondition, compile_condition
from .snapshot import ASSIGNED, MATCHED, POOLED, UNROUTABLE, LeadFacts, PoolCursor, RepState, RoutingSnapshot, RuleSpec
from .territories import EngineConfigError, TerritoryIndex
from .trace import ReasonTrace, RuleStep, engine_trace
from .vocabulary import (  # the refusal codes (why a rep was passed over) are declared there with their words
    AT_CAPACITY,
    CLAIM_LIMIT_REACHED,
    DAILY_CAP_REACHED,
    DIRECT,
    EXCLUDED,
    HOLD,
    INACTIVE,
    LOAD_BALANCED,
    MISSING_SKILL,
    NEXT_RULE,
    ON_TIME_OFF,
    OUTSIDE_WORKING_HOURS,
    PERFORMANCE,
    POOL,
    ROUND_ROBIN,
    SKILL_SCORE,
    STRATEGIES,
    WEIGHTED,
    ZERO_WEIGHT,
)

EXISTING_OWNER = "existing_owner"

# Why a rule did not decide.
NO_ELIGIBLE_REP = "no_eligible_rep"
EMPTY_POOL = "empty_pool"


@cache
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name or "UTC")


def rep_on_time_off(rep: RepState, now: datetime) -> bool:
    return any(start <= now < end for start, end in rep.time_off)


def rep_within_working_hours(rep: RepState, now: datetime) -> bool:
    """No working hours set means no restriction."""
    hours = rep.working_hours
    if hours is None:
        return True
    local = now.astimezone(_zone(rep.timezone))
    t, day = local.time(), local.isoweekday()
    if hours.start <= hours.end:
        return day in hours.days and hours.start <= t < hours.end
    # Overnight shift: belongs to the day it started on.
    previous_day = 7 if day == 1 else day - 1
    return (day in hours.days and t >= hours.start) or (previous_day in hours.days and t < hours.end)


def rep_static_refusal(rep: RepState, now: datetime) -> str | None:
    """Refusal that does not change while a batch is decided."""
    if not rep.active:
        return INACTIVE
    if rep.time_off and rep_on_time_off(rep, now):
        return ON_TIME_OFF
    return None


def rep_has_skills(rep: RepState, required: frozenset[int]) -> bool:
    """The rep holds every required skill (any proficiency above 0)."""
    return all(rep.skills.get(s, 0) > 0 for s in required)


def rep_load_refusal(rep: RepState) -> str | None:
    if rep.open_leads >= rep.capacity:
        return AT_CAPACITY
    if rep.assigned_today >= rep.daily_cap:
        return DAILY_CAP_REACHED
    return None


def claim_refusal(rep: RepState, *, rule: RuleSpec, open_claimed: int, now: datetime) -> str | None:
    """Why `rep` may not claim a lead pooled on `rule` now (None: the claim is allowed).

    PRODUCT.md: capacity, daily cap and claim limit are checked when a member claims, and a
    member who is inactive, on time off or lacks a required skill cannot claim at all. The
    claim itself is not an engine assignment, so it does not count towards the daily cap.
    """
    refusal = rep_static_refusal(rep, now)
    if refusal:
        return refusal
    if not rep_has_skills(rep, rule.required_skill_ids):
        return MISSING_SKILL
    load = rep_load_refusal(rep)
    if load:
        return load
    if rule.claim_limit is not None and open_claimed >= rule.claim_limit:
        return CLAIM_LIMIT_REACHED
    return None


@dataclass(slots=True)
class Decision:
    lead_id: int
    outcome: str  # assigned / pooled / unroutable
    rep_id: int | None = None
    rule_id: int | None = None
    strategy: str | None = None
    territory_id: int | None = None  # the territory whose reps decided or hold the lead
    held: bool = False  # pooled because the rule says `hold`, not because of `pool`
    # Raw trace material; `reason` renders it (only the writer needs the JSON).
    _rules_upto: int = 0
    _details: dict = field(default_factory=dict)
    _owner: list | None = None
    _engine: RoutingEngine | None = None

    @property
    def reason(self) -> ReasonTrace:
        """The reason trace (engine/trace.py): rules tried in order and why each did not decide; reps skipped."""
        rules: list[RuleStep] = []
        if self._engine is not None and self._rules_upto:
            # Rules the index skipped failed their indexed condition; every rule the engine
            # looked at has its own entry in _details.
            rules = self._engine.no_match_entries[: self._rules_upto]
            for pos, entry in self._details.items():
                rules[pos] = entry
        return engine_trace(self.outcome, rules, self._owner)


class _Pool:
    __slots__ = (
        "key",
        "member_ids",
        "candidates",
        "static_skips",
        "any_active",
        "any_claimant",
        "territory_id",
        "full",
    )

    def __init__(self, key, member_ids, candidates, static_skips, any_active, any_claimant, territory_id=None):
        self.key = key
        self.member_ids = member_ids  # everyone in the pool, eligible or not
        self.candidates = candidates  # reps that pass static checks, in strategy order
        self.static_skips = static_skips  # [{"rep", "rep_id", "reason"}] shared, never mutated
        self.any_active = any_active
        # Someone active, not on time off, with the required skills: a `pool` rule only
        # pools a lead that somebody can claim.
        self.any_claimant = any_claimant
        self.territory_id = territory_id
        # Replay only: what the last scan skipped when nobody could take a lead, while still true.
        self.full: list | None = None


class _Rule:
    __slots__ = (
        "spec",
        "pos",
        "rest",
        "fail_entries",
        "pool",
        "pool_ids",
        "matched",
        "strategy",
        "hold",
        "base_ids",
        "entry_head",
    )

    def __init__(self, spec: RuleSpec, pos: int):
        self.spec = spec
        self.pos = pos
        self.strategy = spec.strategy
        self.hold = spec.when_none_eligible == HOLD
        self.entry_head = {"rule": spec.name, "rule_id": spec.id}


class RoutingEngine:
    def __init__(self, snapshot: RoutingSnapshot, *, remember_full_pools: bool = False):
        """`remember_full_pools` (the replay): a pool where every candidate was at capacity or daily
        cap is not scanned again until one of them eases (`reps_eased`) or the pools are rebuilt.
        Only a caller that reports every load that goes down may set it; rep states changed behind
        the engine's back would otherwise go unseen."""
        self.snapshot = snapshot
        self.remember_full_pools = remember_full_pools
        self._full_pools: dict[int, set[_Pool]] = {}  # rep id -> remembered full pools they are in
        self.now = snapshot.now
        self.now_ts = snapshot.now.timestamp()
        self.reps = snapshot.reps
        self.cursors = snapshot.cursors
        self.touched_cursors: set[str] = set()
        self.touched_reps: set[int] = set()
        self.floor = snapshot.settings.performance_floor
        self.territories = TerritoryIndex(snapshot.territories)
        self._seq = 0
        self._last_ts = {
            r.id: (r.last_assigned_at.timestamp() if r.last_assigned_at else float("-inf")) for r in self.reps.values()
        }
        self._static = {r.id: rep_static_refusal(r, self.now) for r in self.reps.values()}
        self._off_hours = {r.id for r in self.reps.values() if not rep_within_working_hours(r, self.now)}
        self._index_membership()
        self._compile_rules()
        self.owner_first = snapshot.settings.existing_owner_first
        self.earlier_owners = {k.strip().casefold(): v for k, v in snapshot.earlier_owners.items()}
        self.account_owners = {k.strip().casefold(): v for k, v in snapshot.account_owners.items()}

    def move_to(self, now: datetime, *, recheck: bool = True) -> None:
        """Replay (simulation, demo history): decide the next leads as of `now`, not before the last.

        Like a fresh snapshot at `now` over the state the earlier decisions left: the batch-local
        tie-breaker starts again, and with `recheck` time off and working hours are judged again
        and the pools rebuilt. The replay passes recheck=False while none of those can change.
        """
        if now != self.now:
            for rid in self.touched_reps:
                self.reps[rid].assign_seq = 0
            self.touched_reps.clear()
        self.now, self.now_ts = now, now.timestamp()
        if recheck:
            static = {r.id: rep_static_refusal(r, now) for r in self.reps.values()}
            off = {r.id for r in self.reps.values() if r.working_hours and not rep_within_working_hours(r, now)}
            moved = {rid for rid, why in static.items() if why != self._static.get(rid)}
            moved_hours = off ^ self._off_hours
            self._static, self._off_hours = static, off
            if not moved and not moved_hours:
                return

            def stale(rule: _Rule, pool: _Pool) -> bool:
                members = pool.member_ids
                return not moved.isdisjoint(members) or (
                    rule.spec.requires_working_hours and not moved_hours.isdisjoint(members)
                )

            # Conditions stay compiled; only the pools whose reps moved are built again (a pool
            # remembered as full stays so: its members' static state is as it was).
            for rule in self.rules:
                if not rule.matched and stale(rule, rule.pool):
                    rule.pool = self._build_pool(rule, rule.pool.key, rule.pool_ids)
            rules = self.rules
            for key in [key for key, pool in self._matched.items() if stale(rules[key[0]], pool)]:
                del self._matched[key]  # built again on first use

    def reps_eased(self, rep_ids: Iterable[int]) -> None:
        """The replay tells: these reps' open leads or today's count moved other than by a decision
        (a lead closed, a new day, a lead given by hand), so the pools remembered as full with them
        in it are scanned again."""
        full = self._full_pools
        if full:
            for rid in rep_ids:
                for pool in full.pop(rid, ()):
                    pool.full = None

    # ---------------------------------------------------------------- compile
    def _index_membership(self):
        tm = self.snapshot.team_members
        if tm is None:
            tm = {}
            for r in sorted(self.reps.values(), key=attrgetter("id")):
                if r.team_id is not None:
                    tm.setdefault(r.team_id, []).append(r.id)
        self.team_members = tm
        self.direct_reps: dict[int, set[int]] = {}
        self.subtree_reps: dict[int, set[int]] = {}
        ti = self.territories
        for r in self.reps.values():
            for tid in r.territory_ids:
                if tid not in ti.by_id:
                    continue
                self.direct_reps.setdefault(tid, set()).add(r.id)
                for anc in ti.ancestors_or_self(tid):
                    self.subtree_reps.setdefault(anc, set()).add(r.id)

    def _compile_rules(self):
        specs = sorted((r for r in self.snapshot.rules if r.active), key=lambda r: (r.priority, r.id))
        self.rules: list[_Rule] = []
        self.no_match_entries: list[dict] = []
        self.always_mask = 0
        index: dict[str, dict[str, int]] = {}
        for pos, spec in enumerate(specs):
            if spec.strategy not in STRATEGIES:
                raise EngineConfigError(f"rule {spec.name!r}: unknown strategy {spec.strategy!r}")
            if spec.when_none_eligible not in (NEXT_RULE, HOLD):
                raise EngineConfigError(f"rule {spec.name!r}: when_none_eligible must be next_rule or hold")
            rule = _Rule(spec, pos)
            try:
                compiled: list[CompiledCondition] = [compile_condition(c, self.territories) for c in spec.conditions]
            except EngineConfigError as exc:
                raise EngineConfigError(f"rule {spec.name!r}: {exc}") from None
            # Most of a long trace is rules that did not match: keep those entries short.
            rule.fail_entries = [{"rule": spec.name, "failed": c.text} for c in compiled]
            # Index the rule by its most selective text condition; the others run per lead.
            indexed = [i for i, c in enumerate(compiled) if c.index_field]
            key_cond = min(indexed, key=lambda i: len(compiled[i].index_keys)) if indexed else None
            bit = 1 << pos
            if key_cond is None:
                self.always_mask |= bit
                self.no_match_entries.append(None)  # never skipped by the index
            else:
                c = compiled[key_cond]
                table = index.setdefault(c.index_field, {})
                for k in c.index_keys:
                    table[k] = table.get(k, 0) | bit
                self.no_match_entries.append(rule.fail_entries[key_cond])
            # An exact key (equals / in on text) has decided its condition already; a pre-filter
            # key (in_territory keys on country alone) still runs its full test with the rest.
            rule.rest = [(i, c.test) for i, c in enumerate(compiled) if i != key_cond or not c.index_exact]
            territory = spec.territory_id
            rule.matched = territory == MATCHED
            base = list(spec.rep_ids)
            if spec.team_id is not None:
                base += self.team_members.get(spec.team_id, [])
            rule.base_ids = base
            if rule.matched:
                rule.pool = None  # one pool per territory level, built on first use
            else:
                ids = list(base)
                if territory is not None:
                    try:
                        tid = self.territories.resolve(territory)
                    except EngineConfigError as exc:
                        raise EngineConfigError(f"rule {spec.name!r}: pool {exc}") from None
                    ids += sorted(self.subtree_reps.get(tid, ()))
                rule.pool_ids = ids
                rule.pool = self._build_pool(rule, f"rule:{spec.id}", ids)
            self.rules.append(rule)
        self.index_tables = [(attrgetter(f), table) for f, table in index.items()]
        self._matched: dict[tuple[int, int | None], _Pool] = {}

    def _build_pool(self, rule: _Rule, key: str, ids: Iterable[int], territory_id=None) -> _Pool:
        spec = rule.spec
        seen, reps = set(), []
        for rid in ids:
            rep = self.reps.get(rid)
            if rep is not None and rid not in seen:
                seen.add(rid)
                reps.append(rep)
        if spec.strategy != DIRECT:
            reps.sort(key=attrgetter("id"))
        else:  # listed reps first, in the order ops listed them; then the rest by id
            listed = {rid: n for n, rid in enumerate(spec.rep_ids)}
            reps.sort(key=lambda r: (listed.get(r.id, len(listed)), r.id))
        required = spec.required_skill_ids
        candidates, skips, any_active, any_claimant = [], [], False, False
        for rep in reps:
            reason = self._static[rep.id]
            if reason != INACTIVE:
                any_active = True
            skilled = not required or rep_has_skills(rep, required)
            if reason is None and skilled:
                any_claimant = True
            if reason is None and spec.requires_working_hours and rep.id in self._off_hours:
                reason = OUTSIDE_WORKING_HOURS
            if reason is None and not skilled:
                reason = MISSING_SKILL
            if reason is None and spec.strategy == WEIGHTED and rep.weight <= 0:
                reason = ZERO_WEIGHT
            if reason is None:
                candidates.append(rep)
            else:
                skips.append({"rep": rep.name or rep.id, "rep_id": rep.id, "reason": reason})
        return _Pool(key, tuple(r.id for r in reps), candidates, skips, any_active, any_claimant, territory_id)

    def _matched_pool(self, rule: _Rule, tid: int | None) -> _Pool:
        """Pool of a "matched" rule at one territory level: the rule's listed reps and team,
        plus the reps attached to that territory itself. Reps of territories below it are
        left out on purpose: an Austrian lead in DACH goes to the DACH reps, not to the
        Germany specialists; widening goes up (DACH, then EMEA), never sideways."""
        pool = self._matched.get((rule.pos, tid))
        if pool is None:
            ids = list(rule.base_ids)
            key = f"rule:{rule.spec.id}"
            if tid is not None:
                ids += sorted(self.direct_reps.get(tid, ()))
                key += f":territory:{tid}"
            pool = self._matched[(rule.pos, tid)] = self._build_pool(rule, key, ids, tid)
        return pool

    def pool_rep_ids(self, rule_id: int, lead: LeadFacts) -> set[int]:
        """Everyone in a rule's pool for this lead, eligible or not (who may claim it).

        For a "matched" territory pool that is the reps of every territory containing the lead.
        """
        rule = next((r for r in self.rules if r.spec.id == rule_id), None)
        if rule is None:
            return set()
        if not rule.matched:
            return set(rule.pool.member_ids)
        best, _ = self.territories.locate(lead.country, lead.region, lead.postal_code)
        chain = self.territories.ancestors_or_self(best) if best is not None else [None]
        return {rid for tid in chain for rid in self._matched_pool(rule, tid).member_ids}

    # ---------------------------------------------------------------- decide
    def decide_batch(self, leads: Iterable[LeadFacts]) -> list[Decision]:
        decide = self.decide
        return [decide(lead) for lead in leads]

    def decide(self, lead: LeadFacts) -> Decision:
        owner_trace = None
        if self.owner_first:
            decision, owner_trace = self._existing_owner(lead)
            if decision is not None:
                return decision
        mask = self.always_mask
        for get, table in self.index_tables:
            v = get(lead)
            if v.__class__ is str:
                hit = table.get(v.strip().casefold())
                if hit:
                    mask |= hit
        details: dict[int, dict] = {}
        rules = self.rules
        while mask:
            low = mask & -mask
            pos = low.bit_length() - 1
            mask ^= low
            rule = rules[pos]
            failed = -1
            for ci, test in rule.rest:
                if not test(lead):
                    failed = ci
                    break
            if failed >= 0:
                details[pos] = rule.fail_entries[failed]
                continue
            decision = self._try_rule(rule, lead, details)
            if decision is not None:
                decision._rules_upto = pos + 1
                decision._details = details
                decision._owner = owner_trace
                decision._engine = self
                return decision
        return Decision(lead.id, UNROUTABLE, _rules_upto=len(rules), _details=details, _owner=owner_trace, _engine=self)

    def _try_rule(self, rule: _Rule, lead: LeadFacts, details: dict) -> Decision | None:
        spec = rule.spec
        if not rule.matched:
            levels = (rule.pool,)
        else:
            best, _ = self.territories.locate(lead.country, lead.region, lead.postal_code)
            chain = self.territories.ancestors_or_self(best) if best is not None else [None]
            levels = [self._matched_pool(rule, tid) for tid in chain]
        excluded = lead.excluded_rep_ids
        tried = []
        for pool in levels:
            if rule.strategy == POOL:
                if pool.any_claimant:
                    return self._pooled(rule, pool, lead, details)
                tried.append((pool, pool.static_skips))
                continue
            eligible, skipped = self._scan(pool, excluded)
            if eligible:
                rep = self._pick(rule, pool, eligible)
                self._assign(rep, lead)
                entry = {
                    **rule.entry_head,
                    "result": ASSIGNED,
                    "rep": rep.name or rep.id,
                    "rep_id": rep.id,
                    "strategy": rule.strategy,
                    "skipped": skipped,
                }
                if pool.territory_id is not None:
                    entry.update(self._territory_head(pool.territory_id))
                if tried:
                    entry["widened_from"] = self._level_trace(tried)
                details[rule.pos] = entry
                return Decision(lead.id, ASSIGNED, rep.id, spec.id, rule.strategy, pool.territory_id)
            tried.append((pool, skipped))
        return self._none_eligible(rule, tried, lead, details)

    def _scan(self, pool: _Pool, excluded: frozenset[int]) -> tuple[list[RepState], list]:
        """The pool's candidates who can take a lead now, and everyone skipped (static reasons first)."""
        if pool.full is not None and not excluded:
            return [], pool.full
        eligible = []
        dynamic = None
        for rep in pool.candidates:
            if excluded and rep.id in excluded:
                reason = EXCLUDED
            elif rep.open_leads >= rep.capacity:
                reason = AT_CAPACITY
            elif rep.assigned_today >= rep.daily_cap:
                reason = DAILY_CAP_REACHED
            else:
                eligible.append(rep)
                continue
            if dynamic is None:
                dynamic = []
            dynamic.append({"rep": rep.name or rep.id, "rep_id": rep.id, "reason": reason})
        skipped = pool.static_skips + dynamic if dynamic else pool.static_skips
        if not eligible and self.remember_full_pools and not excluded:
            # Nobody can take a lead here until someone's load goes down (reps_eased).
            pool.full = skipped
            full = self._full_pools
            for rep in pool.candidates:
                full.setdefault(rep.id, set()).add(pool)
        return eligible, skipped

    def _pooled(self, rule: _Rule, pool: _Pool, lead: LeadFacts, details: dict) -> Decision:
        """A `pool` rule with somebody who could claim: the lead waits in the pool."""
        entry = {**rule.entry_head, "result": POOLED, "strategy": POOL}
        if pool.territory_id is not None:
            entry.update(self._territory_head(pool.territory_id))
        details[rule.pos] = entry
        return Decision(lead.id, POOLED, None, rule.spec.id, POOL, pool.territory_id)

    def _none_eligible(self, rule: _Rule, tried: list, lead: LeadFacts, details: dict) -> Decision | None:
        """Nobody in the pool (at any level) could take the lead: hold it, or let the next rule try."""
        any_active = any(p.any_active for p, _ in tried)
        entry = {**rule.entry_head, "result": NO_ELIGIBLE_REP if any_active else EMPTY_POOL}
        if rule.matched:
            entry["territories"] = self._level_trace(tried)
        else:
            entry["skipped"] = tried[0][1]
        details[rule.pos] = entry
        if not rule.hold:
            return None
        entry["result"] += "; held"
        return Decision(lead.id, POOLED, None, rule.spec.id, rule.strategy, tried[0][0].territory_id, held=True)

    def _territory_head(self, tid: int | None) -> dict:
        if tid is None:
            return {"territory": None}
        return {"territory": self.territories.by_id[tid].name, "territory_id": tid}

    def _level_trace(self, tried) -> list[dict]:
        return [{**self._territory_head(p.territory_id), "skipped": s} for p, s in tried]

    def _assign(self, rep: RepState, lead: LeadFacts) -> None:
        rep.open_leads += 1
        rep.assigned_today += 1
        rep.last_assigned_at = self.now
        self._seq += 1
        rep.assign_seq = self._seq
        self._last_ts[rep.id] = self.now_ts
        self.touched_reps.add(rep.id)
        if self.owner_first and lead.email:
            # A second lead of the same person later in the batch follows this one.
            self.earlier_owners.setdefault(lead.email.strip().casefold(), rep.id)

    # ---------------------------------------------------------------- strategies
    def _cursor(self, key: str) -> PoolCursor:
        cursor = self.cursors.get(key)
        if cursor is None:
            cursor = self.cursors[key] = PoolCursor(key)
        self.touched_cursors.add(key)
        return cursor

    def _pick(self, rule: _Rule, pool: _Pool, eligible: list[RepState]) -> RepState:
        strategy = rule.strategy
        if strategy == ROUND_ROBIN:
            # Next rep id after the one served last, wrapping around: a rep who joins,
            # leaves or comes back simply takes (or loses) their place in the circle.
            cursor = self._cursor(pool.key)
            last = cursor.last_rep_id
            chosen = eligible[0]
            if last is not None:
                for rep in eligible:
                    if rep.id > last:
                        chosen = rep
                        break
            cursor.last_rep_id = chosen.id
            return chosen
        if strategy == DIRECT:
            return eligible[0]
        if strategy == WEIGHTED:
            return self._smooth_weighted(pool.key, eligible, attrgetter("weight"))
        if strategy == PERFORMANCE:
            floor = self.floor
            return self._smooth_weighted(pool.key, eligible, lambda r: max(r.conversion_rate or 0.0, floor))
        last_ts = self._last_ts
        if strategy == LOAD_BALANCED:
            return min(eligible, key=lambda r: (r.open_leads / r.capacity, last_ts[r.id], r.assign_seq, r.id))
        if strategy == SKILL_SCORE:
            wanted = rule.spec.required_skill_ids | rule.spec.preferred_skill_ids
            return min(
                eligible,
                key=lambda r: (
                    -sum(r.skills.get(s, 0) for s in wanted),
                    r.open_leads / r.capacity,
                    last_ts[r.id],
                    r.assign_seq,
                    r.id,
                ),
            )
        raise EngineConfigError(f"strategy {strategy!r} cannot pick a rep")

    def _smooth_weighted(self, key: str, eligible: list[RepState], weight_of) -> RepState:
        """nginx smooth weighted round robin over the reps eligible now.

        A rep missing from this turn (capacity, time off, removed) loses their current
        weight, so they come back at 0 instead of cashing in credit as a burst.
        """
        cursor = self._cursor(key)
        current = cursor.current_weights
        if len(current) != len(eligible) or any(r.id not in current for r in eligible):
            ids = {r.id for r in eligible}
            dropped = [rid for rid in current if rid not in ids]
            for rid in dropped:
                del current[rid]
            if dropped and current:
                # Re-centre on 0 so stored weights do not drift; order is unchanged.
                shift = sum(current.values()) / len(current)
                for rid in current:
                    current[rid] -= shift
        total = 0.0
        best = None
        best_w = 0.0
        for rep in eligible:
            w = weight_of(rep)
            c = current.get(rep.id, 0.0) + w
            current[rep.id] = c
            total += w
            if best is None or c > best_w:
                best, best_w = rep, c
        current[best.id] = best_w - total
        return best

    # ---------------------------------------------------------------- existing owner
    def _existing_owner(self, lead: LeadFacts):
        candidates = []
        if lead.email and self.earlier_owners:
            rid = self.earlier_owners.get(lead.email.strip().casefold())
            if rid is not None:
                candidates.append((rid, "earlier_lead"))
        domain = lead.email_domain
        if domain and self.account_owners:
            domain = domain.strip().casefold()
            while "." in domain:  # eu.acme.com, then acme.com; never a bare "com"
                rid = self.account_owners.get(domain)
                if rid is not None:
                    candidates.append((rid, "account"))
                    break
                domain = domain.partition(".")[2]
        if not candidates:
            return None, None
        tried = []
        seen = set()
        for rid, via in candidates:
            if rid in seen:
                continue
            seen.add(rid)
            rep = self.reps.get(rid)
            if rep is None:
                reason = INACTIVE
            elif rid in lead.excluded_rep_ids:
                reason = EXCLUDED
            else:
                reason = self._static[rid] or rep_load_refusal(rep)
            if reason is None:
                self._assign(rep, lead)
                tried.append({"rep": rep.name or rid, "rep_id": rid, "via": via, "result": ASSIGNED})
                return Decision(lead.id, ASSIGNED, rid, None, EXISTING_OWNER, _owner=tried, _engine=self), tried
            tried.append({"rep": (rep.name or rid) if rep else rid, "rep_id": rid, "via": via, "result": reason})
        return None, (tried or None)


def decide_batch(snapshot: RoutingSnapshot, leads: Iterable[LeadFacts]) -> list[Decision]:
    """Decide every lead of a batch against one snapshot (which the decisions move forward)."""
    return RoutingEngine(snapshot).decide_batch(leads)
