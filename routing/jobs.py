"""RQ jobs: take ids, call one service, safe to run twice (the services check state first)."""
from __future__ import annotations

from routing.services import leads_route, leads_route_pending, rep_redistribute_open_leads


def route_leads_job(lead_ids: list[int]) -> dict:
    """Route a batch; leads already routed (a retry, a duplicate job) are skipped."""
    return leads_route(lead_ids=lead_ids).as_dict()


def route_pending_job() -> dict:
    """The scheduled sweep (see routing/cron.py)."""
    return leads_route_pending().as_dict()


def rep_redistribute_job(rep_id: int) -> list[int]:
    return rep_redistribute_open_leads(rep_id=rep_id)
