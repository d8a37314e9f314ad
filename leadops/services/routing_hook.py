"""The one place intake hands leads to routing: the engine's `leads_enqueue_routing`.

Called inside the transaction that stored the leads: the engine enqueues on commit and never
fails the caller when Redis is down (`route_pending` sweeps such leads later).
"""
from __future__ import annotations

from collections.abc import Sequence

from routing.services import leads_enqueue_routing


def leads_send_to_routing(lead_ids: Sequence[int]) -> None:
    if lead_ids:
        leads_enqueue_routing(list(lead_ids))
