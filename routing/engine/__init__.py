"""The pure routing decision core: plain data in, decisions out. No Django here.

Build a RoutingSnapshot (rules, territories, reps with their load, rotation cursors),
then `RoutingEngine(snapshot).decide(lead_facts)` per lead, or `decide_batch(...)`.
"""
from .conditions import OPERATORS
from .core import (
    AT_CAPACITY, CLAIM_LIMIT_REACHED, DAILY_CAP_REACHED, EMPTY_POOL, EXCLUDED, EXISTING_OWNER,
    INACTIVE, MISSING_SKILL, NO_ELIGIBLE_REP, ON_TIME_OFF, OUTSIDE_WORKING_HOURS,
    ZERO_WEIGHT, Decision, RoutingEngine, claim_refusal, decide_batch, rep_load_refusal,
    rep_on_time_off, rep_static_refusal, rep_within_working_hours,
)
from .snapshot import (
    ASSIGNED, DIRECT, HOLD, LEAD_FACTS, LOAD_BALANCED, MATCHED, NEXT_RULE, PERFORMANCE, POOL,
    POOLED, ROUND_ROBIN, SKILL_SCORE, STRATEGIES, UNROUTABLE, WEIGHTED, Condition, LeadFacts,
    PoolCursor, RepState, RoutingSnapshot, RuleSetSettings, RuleSpec, TerritorySpec,
    WorkingHours,
)
from .territories import EngineConfigError, TerritoryIndex

__all__ = [name for name in dir() if not name.startswith("_")]
