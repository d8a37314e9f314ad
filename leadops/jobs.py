"""RQ jobs of lead intake: take ids, call one service, safe to run twice."""

from __future__ import annotations

from leadops.services.imports import import_run_execute


def import_run_job(run_id: int) -> None:
    """Import an admin-uploaded lead file (leadops.models.ImportRun) in the background."""
    import_run_execute(run_id)
