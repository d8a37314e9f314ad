"""The domain errors, in one module every app imports (it imports nothing of ours): services raise them,
the API maps them to 400/409, commands to CommandError."""

from __future__ import annotations


class DomainError(Exception):
    """Base of every error a caller can fix; `conflict` errors map to HTTP 409, others to 400.

    `errors` names each bad field: {"email": ["Enter a valid email address."]}; errors
    that belong to no field go under "detail".
    """

    conflict = False

    def __init__(self, errors: dict[str, list[str]] | str):
        if isinstance(errors, str):
            errors = {"detail": [errors]}
        self.errors = errors
        super().__init__("; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in errors.items()))


class IntakeError(DomainError):
    """Bad lead or event input."""


class IntakeConflict(IntakeError):
    """The request is well formed but clashes with what is stored (another integration's key, a closed lead)."""

    conflict = True


class IntakeForbidden(IntakeError):
    """Well formed, but this caller may not do it (an integration posting under a source that is not its own): 403."""


class RoutingError(DomainError):
    """A reassignment, claim or release that cannot happen (inactive rep, full rep, not in pool…)."""


class RoutingConflict(RoutingError):
    """The lead moved on meanwhile (claimed by someone else, closed)."""

    conflict = True


class NotificationError(DomainError):
    """A channel that cannot be made (bad URL, unknown event or team, a name taken)."""
