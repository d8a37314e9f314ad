"""The domain error type: services raise it, the API maps it to 400/409, commands to CommandError."""
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
