"""Pickup writes: book, cancel, reschedule, dispatch, courier status. One service per change, end to end.

Lock order everywhere: the case row, then the pickup row, then the slot (a conditional UPDATE), so two
services on the same case never deadlock.
"""

from .base import (
    Assessment,
    PickupError,
    _lock_pickup,
    _require_consumer,
    courier_terms,
    default_courier,
    pickup_assess,
    slots_ensure,
)
from .consumer import pickup_book, pickup_cancel, pickup_reschedule
from .status import STATUS_ALIASES, TRANSITION_FOR_STATUS, pickup_apply_status
from .system import (
    pickup_cancel_orphaned,
    pickup_dispatch,
    pickup_fail,
    pickup_record_dispatch,
    pickups_cancel_for_cases,
)

__all__ = [
    "STATUS_ALIASES", "TRANSITION_FOR_STATUS", "Assessment", "PickupError", "_lock_pickup", "_require_consumer",
    "courier_terms", "default_courier", "pickup_apply_status", "pickup_assess", "pickup_book", "pickup_cancel",
    "pickup_cancel_orphaned", "pickup_dispatch", "pickup_fail", "pickup_record_dispatch", "pickup_reschedule",
    "pickups_cancel_for_cases",
    "slots_ensure",
]
