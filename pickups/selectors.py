"""Reads of pickups, also used by other apps (the case API embeds the case's current pickup)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import Prefetch

from portal import sqlcache
from portal.masking import mask_phone

from . import policy
from .models import Pickup, PickupEvent

PREFETCH_ATTR = "pickups_latest_first"


def _local(moment: datetime) -> str:
    """Slot times in Asia/Shanghai, as a person booking them reads them."""
    return moment.astimezone(policy.SHANGHAI).isoformat()


def pickups_with_details():
    return Pickup.objects.select_related("courier", "slot").prefetch_related(
        Prefetch("events", queryset=PickupEvent.objects.order_by("at", "id"))
    ).order_by("-created_at", "-id")


def pickups_of(case_ids: list[int]) -> Any:
    """The cases' pickups, newest first, with courier, slot and events (the prefetch's and current_pickups')."""
    return pickups_with_details().filter(case_id__in=case_ids)


def current_pickups(case_ids: list[int]) -> dict[int, Any]:
    """Each case's newest pickup (with courier, slot and events), one query when no case has any."""
    newest: dict[int, Any] = {}
    if not case_ids:
        return newest
    # compiled once per number of cases (portal.sqlcache); the events are prefetched only when there are pickups
    for pickup in sqlcache.objects("current_pickups", pickups_of, case_ids=case_ids):
        newest.setdefault(pickup.case_id, pickup)
    return newest


def pickup_prefetch() -> list[str | Prefetch]:
    """Prefetches that make `current_pickup` free of queries on a list of cases."""
    return [Prefetch("pickups", queryset=pickups_with_details(), to_attr=PREFETCH_ATTR)]


def current_pickup(case: Any) -> Pickup | None:
    """The case's newest pickup (the one that matters; older ones were cancelled or failed)."""
    prefetched = getattr(case, PREFETCH_ATTR, None)
    if prefetched is not None:
        return prefetched[0] if prefetched else None
    return pickups_with_details().filter(case_id=case.pk).first()


def pickup_dict(pickup: Pickup, *, unmasked: bool = False) -> dict[str, Any]:
    """A pickup as the API shows it; the phone is masked for anyone but the consumer who booked it."""
    phone = pickup.address_phone if unmasked else mask_phone(pickup.address_phone)
    return {
        "id": pickup.pk,
        "case": pickup.case_id,
        "state": pickup.state,
        "courier": pickup.courier.code,
        "courier_name": pickup.courier.name,
        "slot": {"id": pickup.slot_id, "start": _local(pickup.slot.start), "end": _local(pickup.slot.end)},
        "waybill": pickup.waybill or None,
        "fee": str(pickup.fee),
        "payer": pickup.payer,
        "consumer_fee": str(pickup.consumer_fee),
        "weight_grams": pickup.weight_grams,
        "address": {"region": pickup.address_region, "line": pickup.address_line,
                    "contact": pickup.address_contact, "phone": phone},
        "failure_reason": pickup.failure_reason or None,
        "dispatch_attempts": pickup.dispatch_attempts,
        "created_at": pickup.created_at.isoformat(),
        "updated_at": pickup.updated_at.isoformat(),
        "events": [
            {"at": e.at.isoformat(), "action": e.action, "from_state": e.from_state, "to_state": e.to_state,
             "source": e.source, "payload": e.payload}
            for e in pickup.events.all()
        ],
    }


def pickup_for_consumer(pickup_id: int) -> Pickup | None:
    return pickups_with_details().select_related("case").filter(pk=pickup_id).first()


def options_dict(assessment: Any) -> dict[str, Any]:
    """`GET /cases/{id}/pickup/options/`: every reason, the quote and the open slots (200 also when refused)."""
    return {
        "eligible": assessment.eligible,
        "reasons": sorted(assessment.reasons, key=policy.REASON_ORDER.index),
        "fee": str(assessment.fee) if assessment.fee is not None else None,
        "payer": assessment.payer,
        "consumer_fee": str(policy.consumer_fee(assessment.fee, assessment.payer))
        if assessment.fee is not None else None,
        "courier": assessment.courier.code if assessment.courier is not None else None,
        "region": assessment.region.code if assessment.region is not None else None,
        "weight_grams": assessment.parcel.weight_grams,
        "slots": [
            {"id": s.pk, "start": _local(s.start), "end": _local(s.end), "remaining": s.remaining}
            for s in assessment.slots
        ] if assessment.eligible else [],
    }
