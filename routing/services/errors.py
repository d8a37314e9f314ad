"""The routing domain error: something ops asked for that the routing rules do not allow."""
from leadops.services.errors import DomainError


class RoutingError(DomainError):
    """A reassignment, claim or release that cannot happen (inactive rep, full rep, not in pool…)."""


class RoutingConflict(RoutingError):
    """The lead moved on meanwhile (claimed by someone else, closed)."""

    conflict = True
