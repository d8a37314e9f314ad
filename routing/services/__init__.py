"""Routing services: everything that writes routing decisions. Jobs, commands and admin call these."""

from leadops.errors import RoutingConflict, RoutingError
from routing.services.assignments import lead_claim, lead_claim_next, leads_reassign, leads_release
from routing.services.enqueue import leads_enqueue_routing
from routing.services.reps import rep_redistribute_open_leads, rep_routing_update, reps_routing_update
from routing.services.route import RouteResult, leads_route
from routing.services.sweep import SweepResult, leads_route_pending

__all__ = [
    "RouteResult",
    "RoutingConflict",
    "RoutingError",
    "SweepResult",
    "lead_claim",
    "lead_claim_next",
    "leads_enqueue_routing",
    "leads_reassign",
    "leads_release",
    "leads_route",
    "leads_route_pending",
    "rep_redistribute_open_leads",
    "rep_routing_update",
    "reps_routing_update",
]
