"""RQ jobs: take ids, call one service, safe to run twice (the services check state first)."""
from __future__ import annotations

from routing.services import leads_route, leads_route_pending, rep_redistribute_open_leads


def route_leads_job(lead_ids: list[int]) -> dict:
    """Route a batch, and the backlog of other pending leads with it (one job drains what
    the jobs queued behind it were enqueued for; those then return at once).

    Leads already routed (a retry, a duplicate job, an earlier job's backlog) are skipped.
    """
    return leads_route(lead_ids=lead_ids, backlog=True).as_dict()


def route_pending_job() -> dict:
    """The scheduled sweep (see routing/cron.py)."""
    return leads_route_pending().as_dict()


def rep_redistribute_job(rep_id: int) -> list[int]:
    return rep_redistribute_open_leads(rep_id=rep_id)
