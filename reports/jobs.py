"""RQ jobs of the reports: call one service, safe to run twice (a second fold at once does nothing)."""

from __future__ import annotations

from reports.rollups import rollups_fold


def rollups_fold_job() -> dict:
    """Fold the assignments' logged changes into the report rollups (every minute, routing.cron)."""
    return {"days_rebuilt": rollups_fold()}
