"""The consumer's pickup services: book, cancel, reschedule."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import ConcurrentTransition, TransitionNotAllowed

from portal.models import User

from .. import policy
from ..models import (
    CANCELLABLE_STATES,
    EventSource,
    Pickup,
)
from .base import (
    PS,
    PickupError,
    _address,
    _checked_slot,
    _enqueue_courier_cancel,
    _enqueue_dispatch,
    _event,
    _extend_deadline,
    _lock_case,
    _lock_pickup,
    _parse_slot_id,
    _refuse,
    _release_deadline,
    _release_place,
    _require_consumer,
    _take_place,
    pickup_assess,
)


def pickup_book(*, case_id: int, actor: User, slot_id: Any, address: Any = None,
                now: datetime | None = None) -> Pickup:
    """Book the courier for the case's return; dispatch to the courier runs in Celery after commit."""
    now = now or timezone.now()
    try:
        with transaction.atomic():
            case = _require_consumer(actor, _lock_case(case_id))
            slot_pk = _parse_slot_id(slot_id)  # after the visibility check: a stranger learns nothing
            addr = _address(case, address)
            assessment = pickup_assess(case=case, region_code=addr.region, now=now, with_slots=False)
            if assessment.reasons:
                raise _refuse(assessment.reasons)
            assert assessment.courier is not None and assessment.fee is not None
            slot = _checked_slot(slot_pk, courier=assessment.courier, city_code=assessment.city_code, now=now)
            _take_place(slot)
            pickup = Pickup.objects.create(
                case=case, courier=assessment.courier, slot=slot, address_region=addr.region,
                address_line=addr.line, address_contact=addr.contact, address_phone=addr.phone,
                weight_grams=assessment.parcel.weight_grams, longest_side_cm=assessment.parcel.longest_side_cm,
                fee=assessment.fee, payer=assessment.payer, created_at=now,
            )
            pickup.original_due_at = _extend_deadline(case, slot)
            if pickup.original_due_at is not None:
                Pickup.objects.filter(pk=pickup.pk).update(original_due_at=pickup.original_due_at)
            _event(pickup, action="book", from_state=None, source=EventSource.CONSUMER, at=now,
                   payload={"slot": slot.pk, "start": slot.start.isoformat(), "end": slot.end.isoformat(),
                            "fee": str(pickup.fee), "payer": pickup.payer})
            _enqueue_dispatch(pickup.pk)
    except IntegrityError as exc:  # the partial unique index: a second active pickup raced this one
        raise _refuse([policy.PICKUP_ACTIVE]) from exc
    return pickup


def _locked_own_pickup(pickup_id: int, actor: User) -> Pickup:
    """The pickup, locked, if it is the actor's own case's (anyone else: 404, as for the case)."""
    pickup = _lock_pickup(pickup_id)
    _require_consumer(actor, pickup.case if pickup is not None else None)
    assert pickup is not None
    return pickup


def pickup_cancel(*, pickup_id: int, actor: User, now: datetime | None = None) -> Pickup:
    """The consumer cancels before the parcel is picked up; the place and the extra days are given back."""
    now = now or timezone.now()
    try:
        with transaction.atomic():
            pickup = _locked_own_pickup(pickup_id, actor)
            if pickup.state not in CANCELLABLE_STATES:
                raise PickupError("invalid_transition", _("当前取件状态不能取消"), status=409)
            from_state = pickup.state
            pickup.cancel()
            pickup.save()
            _release_place(pickup.slot_id)
            _release_deadline(pickup, now)
            _event(pickup, action="cancel", from_state=from_state, source=EventSource.CONSUMER, at=now)
            if pickup.waybill:
                _enqueue_courier_cancel(pickup.pk)
    except (TransitionNotAllowed, ConcurrentTransition) as exc:
        raise PickupError("invalid_transition", _("取件状态已变化，请刷新后重试"), status=409) from exc
    return pickup


def pickup_reschedule(*, pickup_id: int, actor: User, slot_id: Any, now: datetime | None = None) -> Pickup:
    """A failed pickup gets a new slot and goes back to `requested` (a new booking at the courier)."""
    now = now or timezone.now()
    try:
        with transaction.atomic():
            pickup = _locked_own_pickup(pickup_id, actor)
            slot_pk = _parse_slot_id(slot_id)
            if pickup.state != PS.FAILED:
                raise PickupError("invalid_transition", _("只有取件失败的预约可以改约"), status=409)
            case = pickup.case
            assessment = pickup_assess(case=case, region_code=pickup.address_region, now=now, with_slots=False,
                                       ignore_pickup_id=pickup.pk)
            if assessment.reasons:
                raise _refuse(assessment.reasons)
            assert assessment.courier is not None
            slot = _checked_slot(slot_pk, courier=pickup.courier, city_code=assessment.city_code, now=now)
            _take_place(slot)
            pickup.reschedule(slot)
            pickup.save()
            _extend_deadline(case, slot)
            _event(pickup, action="reschedule", from_state=PS.FAILED, source=EventSource.CONSUMER, at=now,
                   payload={"slot": slot.pk, "start": slot.start.isoformat(), "end": slot.end.isoformat()})
            _enqueue_dispatch(pickup.pk)
    except (TransitionNotAllowed, ConcurrentTransition) as exc:
        raise PickupError("invalid_transition", _("取件状态已变化，请刷新后重试"), status=409) from exc
    except IntegrityError as exc:
        raise _refuse([policy.PICKUP_ACTIVE]) from exc
    return pickup
