"""The Celery tasks the pickups domain queues, and the only way it queues them.

The domain (services, the sweep, interception) never imports `pickups.tasks`: the tasks import the domain,
and this module finds a task by its registered name (`PickupsConfig.ready()` imports the tasks module). Each
function only sends the message and lets a broker error through: the caller decides (`on_commit(...,
robust=True)` for a booking, a log line for an interception, the outbox sweep retries from the database).
"""

from __future__ import annotations

from celery import current_app

DISPATCH_PICKUP = "pickups.tasks.dispatch_pickup"
CANCEL_COURIER_BOOKING = "pickups.tasks.cancel_courier_booking"
REQUEST_INTERCEPTION = "pickups.tasks.request_interception"


def pickup_dispatch_enqueue(pickup_id: int) -> None:
    """Book the courier for a pickup (idempotent: the state is re-checked, the courier dedupes by key)."""
    current_app.tasks[DISPATCH_PICKUP].delay(pickup_id)


def courier_cancel_enqueue(pickup_id: int) -> None:
    """Tell the courier a cancelled pickup is off (cancelling twice is harmless at the courier)."""
    current_app.tasks[CANCEL_COURIER_BOOKING].delay(pickup_id)


def interception_enqueue(case_id: int) -> None:
    """Ask the order's courier to stop the parcel and apply its answer to the case."""
    current_app.tasks[REQUEST_INTERCEPTION].delay(case_id)


def visit_task_enqueue(task_name: str, visit_id: int) -> None:
    """Queue one of the visit tasks (`dispatch_visit`, `cancel_visit_at_provider`: docs/visits.md) by name."""
    current_app.tasks[f"pickups.tasks.{task_name}"].delay(visit_id)
