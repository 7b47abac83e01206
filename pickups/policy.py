"""Pickup rules as pure functions over data: eligibility reasons, parcel, fee, payer, slot windows."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from .models import Payer

SHANGHAI = ZoneInfo("Asia/Shanghai")
CENT = Decimal("0.01")

# The refusal codes of lifecycle.md, in the order the first one answers a booking.
WRONG_STATE = "wrong_state"
PICKUP_ACTIVE = "pickup_active"  # ours: the case already has a pickup under way
REGION_NOT_COVERED = "region_not_covered"
REMOTE_REGION = "remote_region"
OVERWEIGHT = "overweight"
OVERSIZE = "oversize"
NO_SLOT = "no_slot"
REASON_ORDER = (WRONG_STATE, PICKUP_ACTIVE, REGION_NOT_COVERED, REMOTE_REGION, OVERWEIGHT, OVERSIZE, NO_SLOT)
# On-site repair visits (docs/visits.md): their refusals, in the order the first one answers a booking.
VISIT_NOT_OFFERED = "visit_not_offered"
VISIT_REASON_ORDER = (WRONG_STATE, VISIT_NOT_OFFERED, REGION_NOT_COVERED, REMOTE_REGION, NO_SLOT)
# Refusals that are conflicts with the current state of things rather than bad input.
CONFLICT_REASONS = frozenset({WRONG_STATE, PICKUP_ACTIVE, NO_SLOT})

SLOT_HOURS = 2
FIRST_SLOT_HOUR = 9
LAST_SLOT_END_HOUR = 21
MIN_LEAD = timedelta(hours=2)
MAX_LEAD = timedelta(hours=72)
BOOKING_GRACE = timedelta(hours=24)  # consumer_ship runs until the slot's end + this


@dataclass(frozen=True)
class Parcel:
    weight_grams: int
    longest_side_cm: int


@dataclass(frozen=True)
class CourierTerms:
    """What eligibility needs to know about a courier for one region (rules already folded in)."""

    covered: bool
    covers_remote: bool
    max_weight_grams: int
    max_side_cm: int
    first_kg_fee: Decimal
    extra_kg_fee: Decimal


def parcel_for(*, product_weight_grams: int, quantity: int, longest_side_cm: int) -> Parcel:
    """The return parcel: every unit of the case weighs; the longest side is the product's."""
    return Parcel(weight_grams=product_weight_grams * max(quantity, 1), longest_side_cm=longest_side_cm)


def chargeable_kg(weight_grams: int) -> int:
    """Started kilograms, at least one."""
    return max(1, math.ceil(weight_grams / 1000))


def fee_for(weight_grams: int, *, first_kg_fee: Decimal, extra_kg_fee: Decimal) -> Decimal:
    return (first_kg_fee + extra_kg_fee * (chargeable_kg(weight_grams) - 1)).quantize(CENT)


def payer_for(freight_payer: str | None) -> str:
    """The case's freight payer pays the courier; a case without one (refund only) would be the consumer's."""
    return freight_payer if freight_payer in Payer.values else Payer.CONSUMER


def consumer_fee(fee: Decimal, payer: str) -> Decimal:
    return fee if payer == Payer.CONSUMER else Decimal("0.00")


def refusals(*, case_in_awaiting_return: bool, has_active_pickup: bool, region_known: bool,
             region_remote: bool, terms: CourierTerms | None, parcel: Parcel,
             slot_has_room: bool | None) -> list[str]:
    """Every reason a pickup cannot be booked, in REASON_ORDER; empty means eligible.

    `slot_has_room` is None when slots were not looked at (no courier serves the region).
    """
    reasons: list[str] = []
    if not case_in_awaiting_return:
        reasons.append(WRONG_STATE)
    if has_active_pickup:
        reasons.append(PICKUP_ACTIVE)
    if terms is None or not region_known:
        reasons.append(REGION_NOT_COVERED)
    else:
        if region_remote and not terms.covers_remote:
            reasons.append(REMOTE_REGION)
        elif not terms.covered:
            reasons.append(REGION_NOT_COVERED)
        if parcel.weight_grams > terms.max_weight_grams:
            reasons.append(OVERWEIGHT)
        if parcel.longest_side_cm > terms.max_side_cm:
            reasons.append(OVERSIZE)
    if slot_has_room is False:
        reasons.append(NO_SLOT)
    return reasons


def first_reason(reasons: Iterable[str]) -> str | None:
    ordered = sorted(reasons, key=REASON_ORDER.index)
    return ordered[0] if ordered else None


def slot_windows(now: datetime) -> list[tuple[datetime, datetime]]:
    """Every 2-hour window 09:00–21:00 Asia/Shanghai that starts between now + 2 h and now + 72 h."""
    earliest, latest = now + MIN_LEAD, now + MAX_LEAD
    local_day = now.astimezone(SHANGHAI).date()
    windows: list[tuple[datetime, datetime]] = []
    for day_offset in range(0, 5):
        day = local_day + timedelta(days=day_offset)
        for hour in range(FIRST_SLOT_HOUR, LAST_SLOT_END_HOUR, SLOT_HOURS):
            start = datetime.combine(day, time(hour), tzinfo=SHANGHAI)
            if earliest <= start <= latest:
                windows.append((start, start + timedelta(hours=SLOT_HOURS)))
    return windows


def slot_bookable(start: datetime, now: datetime) -> bool:
    """Whether a window may still be booked now (the lead rules of slot_windows)."""
    local = start.astimezone(SHANGHAI)
    on_grid = (local.minute == 0 and local.second == 0 and FIRST_SLOT_HOUR <= local.hour < LAST_SLOT_END_HOUR
               and (local.hour - FIRST_SLOT_HOUR) % SLOT_HOURS == 0)
    return on_grid and now + MIN_LEAD <= start <= now + MAX_LEAD


def extended_due(current_due: datetime, slot_end: datetime) -> datetime:
    """consumer_ship after a booking: the later of its due time and the slot's end + 24 h."""
    return max(current_due, slot_end + BOOKING_GRACE)


def released_due(original_due: datetime, now: datetime) -> datetime:
    """consumer_ship after a cancelled or failed pickup: the later of the original due time and now + 24 h."""
    return max(original_due, now + BOOKING_GRACE)
