"""The simulated courier's behaviour: bookings (idempotent by key), its script, and moving parcels along."""

from __future__ import annotations

import json
import logging
import uuid
from datetime import datetime, timedelta
from typing import Any

import requests
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from .. import conf
from ..models import Courier, SimulatedBehaviour, SimulatedCourierBooking, SimulatedCourierControl
from ..signing import signed_headers

log = logging.getLogger(__name__)

SIMULATED_CODE = "simulated"
TERMINAL = ("delivered", "cancelled", "failed", "inspection_failed", "visit_repaired", "visit_needs_workshop",
            "visit_not_repairable")
VISIT_BOOKED = "visit_booked"
# What the courier reports next, by where the parcel is and how the booking was scripted to behave.
NEXT_STATUS: dict[tuple[str, str], str] = {
    ("booked", SimulatedBehaviour.NORMAL): "dispatched",
    ("booked", SimulatedBehaviour.NO_SHOW): "dispatched",
    ("booked", SimulatedBehaviour.INSPECTION_MISMATCH): "dispatched",
    ("dispatched", SimulatedBehaviour.NORMAL): "picked_up",
    ("dispatched", SimulatedBehaviour.NO_SHOW): "failed",
    ("dispatched", SimulatedBehaviour.INSPECTION_MISMATCH): "inspection_failed",
    ("picked_up", SimulatedBehaviour.NORMAL): "in_transit",
    ("in_transit", SimulatedBehaviour.NORMAL): "delivered",
}
REASONS = {"failed": "no_show", "inspection_failed": "商品与售后申请不符（数量或型号不一致）"}


def simulated_secret() -> str | None:
    """The secret the simulator shares with the portal: the `simulated` courier's row, made at random by
    `migrate` (never a constant). None when the row is gone: the simulator then signs and accepts nothing."""
    return Courier.objects.filter(code=SIMULATED_CODE).values_list("secret", flat=True).first() or None


class SimulatedFailure(Exception):
    """The script says: answer this call with HTTP 503."""


def _new_waybill() -> str:
    return f"SIM{uuid.uuid4().int % 10**12:012d}"


def _when(value: Any) -> datetime | None:
    return parse_datetime(value) if isinstance(value, str) else None


def simulator_book(payload: dict[str, Any]) -> tuple[SimulatedCourierBooking, bool, bool]:
    """(booking, replayed, should_time_out). Raises SimulatedFailure when scripted to fail.

    The idempotency key is the booking's identity: the same key always answers the same waybill.
    """
    SimulatedCourierControl.current()
    SimulatedCourierControl.objects.filter(pk=1).update(book_calls=F("book_calls") + 1)
    if SimulatedCourierControl.objects.filter(pk=1, fail_next__gt=0).update(fail_next=F("fail_next") - 1):
        raise SimulatedFailure
    times_out = bool(SimulatedCourierControl.objects.filter(pk=1, timeout_next__gt=0)
                     .update(timeout_next=F("timeout_next") - 1))
    key = str(payload.get("idempotency_key") or "").strip()[:64]
    existing = SimulatedCourierBooking.objects.filter(idempotency_key=key).first()
    if existing is not None:
        return existing, True, times_out
    control = SimulatedCourierControl.current()
    try:
        with transaction.atomic():
            booking = SimulatedCourierBooking.objects.create(
                idempotency_key=key, waybill=_new_waybill(), reference=str(payload.get("reference", ""))[:64],
                region=str(payload.get("region", ""))[:6], address_line=str(payload.get("address_line", ""))[:255],
                contact=str(payload.get("contact", ""))[:100], phone=str(payload.get("phone", ""))[:32],
                weight_grams=int(payload.get("weight_grams") or 0), slot_start=_when(payload.get("slot_start")),
                slot_end=_when(payload.get("slot_end")), callback_url=str(payload.get("callback_url", ""))[:500],
                behaviour=control.behaviour,
                next_step_at=timezone.now() + timedelta(seconds=conf.simulated_speed_seconds()),
            )
    except IntegrityError:  # the same key booked concurrently: that booking is the answer
        return SimulatedCourierBooking.objects.get(idempotency_key=key), True, times_out
    return booking, False, times_out


def simulator_intercept(waybill: str) -> tuple[str, str]:
    """(status, reason): the simulated courier stops a parcel whose waybill ends in an even digit; an odd digit
    fails, as a parcel already out for delivery does; a waybill not ending in a digit is `requested` (no answer
    yet: the portal's `interception` clock, or a webhook, ends the wait) (docs/interception.md)."""
    last = waybill[-1:] if waybill else ""
    if not last.isdigit():
        return "requested", ""
    if int(last) % 2 == 0:
        return "intercepted", ""
    return "intercept_failed", "parcel_out_for_delivery"


def simulator_book_visit(payload: dict[str, Any]) -> tuple[SimulatedCourierBooking, bool, bool]:
    """A technician visit (docs/visits.md): booked like a pickup (same key rules, same failure script), with a
    service number `VIS…` and status `visit_booked`."""
    booking, replayed, times_out = simulator_book(payload)
    if not replayed and booking.status == "booked":
        number = f"VIS{booking.waybill[3:]}"
        SimulatedCourierBooking.objects.filter(pk=booking.pk).update(status=VISIT_BOOKED, waybill=number)
        booking.status, booking.waybill = VISIT_BOOKED, number
    return booking, replayed, times_out


def simulated_visit_outcome(reference: str) -> str:
    """The technician's outcome, deterministic by the service number's last digit: 0–6 repaired on site,
    7–8 needs the workshop, 9 not repairable."""
    last = reference[-1:]
    digit = int(last) if last.isdigit() else 0
    if digit <= 6:
        return "visit_repaired"
    return "visit_needs_workshop" if digit <= 8 else "visit_not_repairable"


def simulator_cancel(waybill: str) -> SimulatedCourierBooking | None:
    booking = SimulatedCourierBooking.objects.filter(waybill=waybill).first()
    if booking is not None and booking.status in ("booked", "dispatched", VISIT_BOOKED):
        SimulatedCourierBooking.objects.filter(pk=booking.pk).update(status="cancelled")
        booking.status = "cancelled"
    return booking


def _post_event(booking: SimulatedCourierBooking, status: str, seq: int, now: datetime) -> bool:
    body = {"event_id": f"{booking.waybill}-{seq}", "waybill": booking.waybill, "reference": booking.idempotency_key,
            "status": status, "at": now.isoformat()}
    if status in REASONS:
        body["reason"] = REASONS[status]
    raw = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
    secret = simulated_secret()
    if secret is None:
        log.warning("simulated courier has no secret (no `simulated` courier row): event not sent")
        return False
    try:
        response = requests.post(booking.callback_url, data=raw, headers=signed_headers(secret, raw), timeout=10)
    except requests.RequestException as exc:
        log.warning("simulated courier could not reach the portal: %s", exc.__class__.__name__)
        return False
    return response.status_code < 300


def simulator_advance(now: datetime | None = None, *, limit: int = 200) -> int:
    """Move every due booking one step and tell the portal; a step the portal did not take is sent again next
    time (same event id, so the portal applies it once). No transaction is held over the HTTP call."""
    now = now or timezone.now()
    speed = timedelta(seconds=conf.simulated_speed_seconds())
    moved = 0
    due = list(SimulatedCourierBooking.objects.exclude(status__in=TERMINAL).filter(next_step_at__lte=now)
               .exclude(callback_url="").order_by("next_step_at")[:limit])
    for booking in due:
        status = (simulated_visit_outcome(booking.waybill) if booking.status == VISIT_BOOKED
                  else NEXT_STATUS.get((booking.status, booking.behaviour)))
        if status is None:
            continue
        claimed = SimulatedCourierBooking.objects.filter(
            pk=booking.pk, status=booking.status, steps_sent=booking.steps_sent, next_step_at__lte=now,
        ).update(next_step_at=now + timedelta(minutes=5))  # a concurrent sweep leaves this one alone
        if not claimed:
            continue
        if _post_event(booking, status, booking.steps_sent + 1, now):
            SimulatedCourierBooking.objects.filter(pk=booking.pk).update(
                status=status, steps_sent=F("steps_sent") + 1, next_step_at=now + speed)
            moved += 1
        else:
            SimulatedCourierBooking.objects.filter(pk=booking.pk).update(next_step_at=now)
    return moved


def control_dict(control: SimulatedCourierControl) -> dict[str, Any]:
    return {"fail_next": control.fail_next, "timeout_next": control.timeout_next, "behaviour": control.behaviour,
            "book_calls": control.book_calls}


def control_set(values: dict[str, Any]) -> SimulatedCourierControl:
    control = SimulatedCourierControl.current()
    for name in ("fail_next", "timeout_next"):
        if name in values:
            setattr(control, name, max(int(values[name]), 0))
    if values.get("behaviour") in SimulatedBehaviour.values:
        control.behaviour = values["behaviour"]
    if values.get("reset"):
        control.fail_next = control.timeout_next = control.book_calls = 0
        control.behaviour = SimulatedBehaviour.NORMAL
    control.save()
    return control
