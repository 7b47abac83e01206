"""The system's pickup services: dispatch to the courier, record the booking, fail, cancel orphans."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from cases.choices import State
from cases.notifications import notify_party

from ..couriers import BookingRequest, CourierRejected, gateway_for, webhook_url
from ..models import (
    CANCELLABLE_STATES,
    EventSource,
    Pickup,
)
from .base import PS, _enqueue_courier_cancel, _event, _lock_pickup, _release_deadline, _release_place


def pickup_dispatch(*, pickup_id: int, now: datetime | None = None) -> Pickup | None:
    """Book the courier with the pickup's idempotency key (never twice: the courier dedupes by key).

    Transient courier errors propagate (the task retries); a refusal fails the pickup at once.
    """
    pickup = Pickup.objects.select_related("courier", "slot").filter(pk=pickup_id).first()
    if pickup is None or pickup.state != PS.REQUESTED:
        return pickup  # already dispatched, cancelled or failed: a redelivered task does nothing
    Pickup.objects.filter(pk=pickup_id).update(dispatch_attempts=F("dispatch_attempts") + 1,
                                               updated_at=timezone.now())
    request = BookingRequest(
        idempotency_key=pickup.idempotency_key, reference=str(pickup.pk), region=pickup.address_region,
        address_line=pickup.address_line, contact=pickup.address_contact, phone=pickup.address_phone,
        weight_grams=pickup.weight_grams, slot_start=pickup.slot.start, slot_end=pickup.slot.end,
        callback_url=webhook_url(pickup.courier),
    )
    try:
        booking = gateway_for(pickup.courier).book(request)
    except CourierRejected as exc:
        return pickup_fail(pickup_id=pickup_id, reason=f"courier_rejected: {exc}"[:255], now=now)
    return pickup_record_dispatch(pickup_id=pickup_id, idempotency_key=pickup.idempotency_key,
                                  waybill=booking.waybill, source=EventSource.SYSTEM, now=now)


def pickup_record_dispatch(*, pickup_id: int, idempotency_key: str, waybill: str, source: str,
                           now: datetime | None = None) -> Pickup | None:
    """The courier accepted: `requested` → `dispatched` with the waybill. A booking that comes back for a pickup
    cancelled in the meantime is cancelled at the courier."""
    now = now or timezone.now()
    with transaction.atomic():
        pickup = _lock_pickup(pickup_id)
        if pickup is None or pickup.idempotency_key != idempotency_key:
            return pickup
        if pickup.state == PS.REQUESTED:
            pickup.dispatch(waybill)
            pickup.save()
            _event(pickup, action="dispatch", from_state=PS.REQUESTED, source=source, at=now,
                   payload={"waybill": waybill})
        elif pickup.state == PS.CANCELLED and not pickup.waybill:
            pickup.waybill = waybill
            pickup.save(update_fields=["waybill", "updated_at"])
            _enqueue_courier_cancel(pickup.pk)
    return pickup


def pickup_fail(*, pickup_id: int, reason: str, source: str = EventSource.SYSTEM,
                now: datetime | None = None) -> Pickup | None:
    """No-show or dispatch given up: the consumer is told and may ship it themselves or pick a new slot."""
    now = now or timezone.now()
    with transaction.atomic():
        pickup = _lock_pickup(pickup_id)
        if pickup is None or pickup.state not in (PS.REQUESTED, PS.DISPATCHED):
            return pickup
        from_state = pickup.state
        pickup.fail(reason)
        pickup.save()
        _release_place(pickup.slot_id)
        _release_deadline(pickup, now)
        _event(pickup, action="fail", from_state=from_state, source=source, at=now, payload={"reason": reason})
        notify_party(case=pickup.case, party="consumer", kind="pickup_failed")
    return pickup


def pickup_cancel_orphaned(*, pickup_id: int, now: datetime | None = None) -> Pickup | None:
    """The case left awaiting_return (withdrawn, expired, shipped by the consumer) while a pickup was still
    booked: the system cancels it, frees the place and tells the courier."""
    now = now or timezone.now()
    with transaction.atomic():
        pickup = _lock_pickup(pickup_id)
        if pickup is None or pickup.state not in CANCELLABLE_STATES or pickup.case.state == State.AWAITING_RETURN:
            return pickup
        from_state = pickup.state
        pickup.cancel()
        pickup.save()
        _release_place(pickup.slot_id)
        _event(pickup, action="cancel", from_state=from_state, source=EventSource.SYSTEM, at=now,
               payload={"case_state": pickup.case.state})
        if pickup.waybill:
            _enqueue_courier_cancel(pickup.pk)
    return pickup


def pickups_cancel_for_cases(case_ids: list[int], now: datetime) -> None:
    """Cases just left `awaiting_return` in this transaction: cancel their live pickups now, free the places
    and ask the courier to cancel after commit (not at a later sweep)."""
    live = Pickup.objects.filter(case_id__in=case_ids, state__in=CANCELLABLE_STATES).values_list("pk", flat=True)
    for pickup_id in list(live):
        pickup_cancel_orphaned(pickup_id=pickup_id, now=now)
