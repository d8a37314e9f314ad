"""The one place intake hands leads to routing (the engine's `leads_enqueue_routing`).

Called inside the transaction that stored the leads: the engine enqueues on commit and never
fails the caller when Redis is down (`route_pending` sweeps such leads later).
"""
from __future__ import annotations

import logging
from collections.abc import Sequence

logger = logging.getLogger(__name__)


def leads_send_to_routing(lead_ids: Sequence[int]) -> None:
    if not lead_ids:
        return
    try:
        from routing.services import leads_enqueue_routing
    except ImportError:  # the engine's services are not installed yet; route_pending will sweep
        logger.warning("routing.services.leads_enqueue_routing is missing; %d leads wait for route_pending", len(lead_ids))
        return
    leads_enqueue_routing(list(lead_ids))
