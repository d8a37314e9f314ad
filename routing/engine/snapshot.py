"""Plain data the decision core reads: one consistent picture of the routing set-up.

The services build a RoutingSnapshot from the database in a few queries; simulation
builds one from a draft rule set; tests build one by hand. Nothing here touches Django.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time
from typing import Any

from .vocabulary import NEXT_RULE, ROUND_ROBIN, email_domain

# Outcomes of a decision.
ASSIGNED = "assigned"
POOLED = "pooled"
UNROUTABLE = "unroutable"

# `pool.territory` value meaning "the most specific territory containing the lead".
MATCHED = "matched"


@dataclass(slots=True)
class WorkingHours:
    """Local working hours of a rep; `days` are ISO weekdays (1 = Monday … 7 = Sunday).

    An `end` before `start` is an overnight shift (22:00–06:00) that belongs to the day
    it starts on.
    """

    start: time
    end: time
    days: frozenset[int] = frozenset({1, 2, 3, 4, 5})


@dataclass(slots=True)
class Condition:
    field: str  # a lead fact name or "extra.<key>"
    op: str
    value: Any = None


@dataclass(slots=True)
class RuleSpec:
    id: int
    name: str
    priority: int
    conditions: list[Condition] = field(default_factory=list)
    # Pool: union of listed reps (kept in list order for `direct`), the team's members and
    # the territory's reps. `territory_id` may be MATCHED.
    rep_ids: list[int] = field(default_factory=list)
    team_id: int | None = None
    territory_id: int | str | None = None
    required_skill_ids: frozenset[int] = frozenset()
    preferred_skill_ids: frozenset[int] = frozenset()
    strategy: str = ROUND_ROBIN
    when_none_eligible: str = NEXT_RULE
    requires_working_hours: bool = False
    claim_limit: int | None = None
    active: bool = True


@dataclass(slots=True)
class TerritorySpec:
    id: int
    name: str
    parent_id: int | None = None
    countries: frozenset[str] = frozenset()
    regions: frozenset[str] = frozenset()
    postal_prefixes: tuple[str, ...] = ()


@dataclass(slots=True)
class RepState:
    """A rep as routing sees them, with the counters the batch moves forward."""

    id: int
    active: bool = True
    name: str = ""  # how the reason trace names the rep
    team_id: int | None = None
    territory_ids: frozenset[int] = frozenset()
    capacity: int = 1_000_000
    open_leads: int = 0
    daily_cap: int = 1_000_000
    assigned_today: int = 0
    weight: float = 1.0
    timezone: str = "UTC"
    working_hours: WorkingHours | None = None
    time_off: tuple[tuple[datetime, datetime], ...] = ()
    skills: dict[int, int] = field(default_factory=dict)  # skill id -> proficiency
    last_assigned_at: datetime | None = None
    conversion_rate: float | None = None  # trailing 90 days; None when no history
    # Batch-local tie-breaker: reps assigned in this batch are less idle than anyone else,
    # the latest one least of all.
    assign_seq: int = 0


@dataclass(slots=True)
class PoolCursor:
    """Rotation state of one pool, persisted in its own row.

    `last_rep_id` is the rep served last by round robin: the next turn goes to the next
    rep id after it, so joining, leaving or returning reps neither reset nor burst it.
    `current_weights` is the smooth-weighted-round-robin state (rep id -> current weight).
    """

    key: str
    last_rep_id: int | None = None
    current_weights: dict[int, float] = field(default_factory=dict)


@dataclass(slots=True)
class RuleSetSettings:
    existing_owner_first: bool = False
    performance_floor: float = 0.1
    version: int | None = None


@dataclass(slots=True)
class RoutingSnapshot:
    now: datetime  # aware
    rules: list[RuleSpec] = field(default_factory=list)
    territories: list[TerritorySpec] = field(default_factory=list)
    reps: dict[int, RepState] = field(default_factory=dict)
    team_members: dict[int, list[int]] | None = None  # derived from reps when None
    cursors: dict[str, PoolCursor] = field(default_factory=dict)
    account_owners: dict[str, int] = field(default_factory=dict)  # email domain -> rep id
    earlier_owners: dict[str, int] = field(default_factory=dict)  # email -> rep id
    settings: RuleSetSettings = field(default_factory=RuleSetSettings)


@dataclass(slots=True)
class LeadFacts:
    id: int
    email: str = ""
    email_domain: str = ""
    first_name: str = ""
    last_name: str = ""
    phone: str = ""
    company: str = ""
    industry: str = ""
    company_size: int | None = None
    annual_revenue: float | None = None
    country: str = ""
    region: str = ""
    city: str = ""
    postal_code: str = ""
    product_interest: str = ""
    source: str = ""
    score: int | None = None
    language: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
    # Reps the lead was sent back from (misrouted / released): never routed to them again.
    excluded_rep_ids: frozenset[int] = frozenset()

    def __post_init__(self) -> None:
        if not self.email_domain and self.email:
            self.email_domain = email_domain(self.email)
