"""Courier status events applied to a pickup (webhooks and the simulated courier)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django_fsm import TransitionNotAllowed

from cases.notifications import notify_party
from cases.services import case_ship_return

from ..models import (
    EventSource,
    Pickup,
)
from .base import _event, _release_deadline, _release_place

STATUS_ALIASES = {"accepted": "dispatched", "no_show": "failed", "missed": "failed"}
# A pickup event is named after the transition it made (the same names as the system's and consumer's).
TRANSITION_FOR_STATUS = {"dispatched": "dispatch", "picked_up": "pick_up", "in_transit": "depart",
                         "delivered": "deliver", "inspection_failed": "fail_inspection", "failed": "fail"}


def pickup_apply_status(*, pickup: Pickup, status: str, data: dict[str, Any], now: datetime) -> str:
    """Apply one courier status to a locked pickup; returns a note. Raises TransitionNotAllowed when the event
    does not fit the pickup's state (stored and ignored by the caller)."""
    status = STATUS_ALIASES.get(status, status)
    from_state = pickup.state
    reason = str(data.get("reason") or "")[:255]
    payload: dict[str, Any] = {k: data[k] for k in ("event_id", "status", "at", "reason") if k in data}
    if status == "dispatched":
        waybill = str(data.get("waybill") or "")
        if not waybill:
            raise TransitionNotAllowed("dispatched without waybill")
        pickup.dispatch(waybill)
    elif status == "picked_up":
        pickup.pick_up()
    elif status == "in_transit":
        pickup.depart()
    elif status == "delivered":
        pickup.deliver()
    elif status == "inspection_failed":
        pickup.fail_inspection(reason or "inspection_mismatch")
    elif status == "failed":
        pickup.fail(reason or "no_show")
    else:
        raise TransitionNotAllowed(f"unknown status {status}")
    pickup.save()
    _event(pickup, action=TRANSITION_FOR_STATUS[status], from_state=from_state, source=EventSource.COURIER, at=now,
           payload=payload)
    case = pickup.case
    if status == "picked_up":
        case_ship_return(case_id=case.pk, actor=None, carrier=pickup.courier.name, tracking_number=pickup.waybill,
                         via_pickup=True, now=now)
    elif status in ("inspection_failed", "failed"):
        if status == "failed":
            _release_place(pickup.slot_id)
        _release_deadline(pickup, now)
        params = {"number": case.number, "reason": pickup.failure_reason or ""}
        notify_party(case=case, party="consumer", kind=f"pickup_{status}", params=params)
    return "applied"
