"""Celery tasks of pickups (routed to the "pickups" queue): take ids, call one service, idempotent."""

from __future__ import annotations

import logging
from typing import Any

from celery import Task, shared_task
from django.utils import timezone

from . import conf
from .couriers import CourierError, CourierUnavailable, gateway_for
from .interception import interception_request
from .models import Pickup, PickupState
from .services import pickup_dispatch, pickup_fail
from .sweep import pickups_sweep

log = logging.getLogger(__name__)


class DispatchTask(Task):
    """When the retries run out, the pickup fails and the consumer is told (instead of a silent dead task)."""

    def on_failure(self, exc: BaseException, task_id: str, args: Any, kwargs: Any, einfo: Any) -> None:
        pickup_id = kwargs.get("pickup_id") if kwargs else None
        if pickup_id is None and args:
            pickup_id = args[0]
        if pickup_id is None or not isinstance(exc, CourierError):
            return
        log.warning("pickup dispatch gave up", extra={"pickup": pickup_id, "task": task_id})
        pickup_fail(pickup_id=int(pickup_id), reason="dispatch_failed")


@shared_task(
    name="pickups.tasks.dispatch_pickup", base=DispatchTask, bind=True, acks_late=True, ignore_result=True,
    autoretry_for=(CourierUnavailable,), retry_backoff=conf.dispatch_backoff_seconds(), retry_backoff_max=300,
    retry_jitter=False, max_retries=conf.dispatch_max_retries(),
)
def dispatch_pickup(self: Task, pickup_id: int) -> str | None:
    """Book the courier. Safe to run twice or after a crash: the service re-checks the state and the courier
    dedupes on the pickup's idempotency key."""
    pickup = pickup_dispatch(pickup_id=pickup_id)
    return pickup.state if pickup is not None else None


@shared_task(
    name="pickups.tasks.cancel_courier_booking", acks_late=True, ignore_result=True,
    autoretry_for=(CourierUnavailable,), retry_backoff=True, retry_backoff_max=300, retry_jitter=False,
    max_retries=8,
)
def cancel_courier_booking(pickup_id: int) -> bool:
    """Tell the courier a cancelled pickup is off (cancelling twice is harmless at the courier)."""
    pickup = Pickup.objects.select_related("courier").filter(pk=pickup_id).first()
    if (pickup is None or pickup.state != PickupState.CANCELLED or not pickup.waybill
            or pickup.courier_cancelled_at is not None):
        return False
    gateway_for(pickup.courier).cancel(pickup.waybill)
    Pickup.objects.filter(pk=pickup_id).update(courier_cancelled_at=timezone.now())
    return True


@shared_task(name="pickups.tasks.sweep_pickups", acks_late=True, ignore_result=True)
def sweep_pickups() -> dict[str, int]:
    """Every minute: re-dispatch pickups whose task was lost, fail no-shows, and move the simulated courier."""
    return pickups_sweep()


@shared_task(
    name="pickups.tasks.request_interception", acks_late=True, ignore_result=True,
    autoretry_for=(CourierUnavailable,), retry_backoff=True, retry_backoff_max=300, retry_jitter=False,
    max_retries=8,
)
def request_interception(case_id: int) -> str | None:
    """Ask the order's courier to stop the parcel and apply its answer to the case. Idempotent: a case no
    longer `intercepting` is left alone, and the courier answers the same waybill the same way. A courier
    that answers `requested` reports later by webhook; if nobody answers, the `interception` clock ends it."""
    return interception_request(case_id=case_id)


@shared_task(
    name="pickups.tasks.dispatch_visit", acks_late=True, ignore_result=True,
    autoretry_for=(CourierUnavailable,), retry_backoff=True, retry_backoff_max=300, retry_jitter=False,
    max_retries=8,
)
def dispatch_visit(visit_id: int) -> str | None:
    """Book the technician (docs/visits.md). Safe to run twice: the visit's state is re-checked and the provider
    dedupes on its key; a lost task is sent again by the outbox sweep."""
    from .visits import visit_dispatch

    visit = visit_dispatch(visit_id=visit_id)
    return visit.state if visit is not None else None


@shared_task(
    name="pickups.tasks.cancel_visit_at_provider", acks_late=True, ignore_result=True,
    autoretry_for=(CourierUnavailable,), retry_backoff=True, retry_backoff_max=300, retry_jitter=False,
    max_retries=8,
)
def cancel_visit_at_provider(visit_id: int) -> bool:
    """Tell the provider a cancelled visit is off (cancelling twice is harmless there)."""
    from .visits import visit_cancel_at_provider

    return visit_cancel_at_provider(visit_id=visit_id)
