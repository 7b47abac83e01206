"""What the pickup services share: the error, reading the situation (eligibility, quote, slots), locks,
slot places and the consumer_ship clock."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from cases.choices import DeadlineName, State
from cases.deadlines import deadline_move, running_deadline
from cases.models import AfterSalesCase
from cases.permissions import role_of
from portal.errors import DomainError
from portal.models import Region, User
from portal.outbox import outbox_put

from .. import policy
from ..models import (
    ACTIVE_STATES,
    Courier,
    CourierRegionRule,
    Pickup,
    PickupEvent,
    PickupState,
    Slot,
    SlotKind,
)

PS = PickupState


class PickupError(DomainError):
    pass


# --- reading the situation ------------------------------------------------------------------------

def default_courier() -> Courier | None:
    return Courier.objects.filter(active=True).order_by("-is_default", "id").first()


def courier_terms(courier: Courier, region: Region) -> policy.CourierTerms:
    """The courier's limits and prices for a region, its most specific region rule applied."""
    lineage = region.lineage()
    rules = {r.region_id: r for r in CourierRegionRule.objects.filter(courier=courier,
                                                                      region_id__in=[r.code for r in lineage])}
    covered = True
    first_kg_fee, extra_kg_fee = courier.first_kg_fee, courier.extra_kg_fee
    for node in reversed(lineage):  # province first, the most specific rule last (it wins)
        rule = rules.get(node.code)
        if rule is None:
            continue
        covered = not rule.excluded
        if rule.first_kg_fee is not None:
            first_kg_fee = rule.first_kg_fee
        if rule.extra_kg_fee is not None:
            extra_kg_fee = rule.extra_kg_fee
    return policy.CourierTerms(
        covered=covered and region.is_covered, covers_remote=courier.covers_remote,
        max_weight_grams=courier.max_weight_grams, max_side_cm=courier.max_side_cm,
        first_kg_fee=first_kg_fee, extra_kg_fee=extra_kg_fee,
    )


def slots_ensure(*, courier: Courier, region_code: str, now: datetime, kind: str = "pickup") -> list[Slot]:
    """The bookable windows of a kind (pickups, or technician visits) for a city, creating their rows on first
    sight (capacity from the courier's places for that kind)."""
    windows = policy.slot_windows(now)
    if not windows:
        return []
    capacity = courier.visit_capacity_per_slot if kind == SlotKind.VISIT else courier.capacity_per_slot
    Slot.objects.bulk_create(
        [Slot(courier=courier, kind=kind, region_code=region_code, start=start, end=end, capacity=capacity)
         for start, end in windows],
        ignore_conflicts=True,
    )
    return list(Slot.objects.filter(courier=courier, kind=kind, region_code=region_code,
                                    start__in=[start for start, _end in windows]).order_by("start"))


@dataclass
class Assessment:
    reasons: list[str]
    courier: Courier | None
    region: Region | None
    city_code: str
    parcel: policy.Parcel
    fee: Decimal | None
    payer: str
    slots: list[Slot] = field(default_factory=list)

    @property
    def eligible(self) -> bool:
        return not self.reasons


def pickup_assess(*, case: AfterSalesCase, region_code: str | None = None, now: datetime | None = None,
                  with_slots: bool = True, ignore_pickup_id: int | None = None) -> Assessment:
    """Every reason that applies (lifecycle.md), the quote, and — when asked — the open slots."""
    now = now or timezone.now()
    product = case.order_item.product
    parcel = policy.parcel_for(product_weight_grams=product.weight_grams, quantity=case.quantity,
                               longest_side_cm=product.longest_side_cm)
    region = Region.resolve(region_code if region_code is not None else case.order_item.order.address_region)
    courier = default_courier()
    terms = courier_terms(courier, region) if courier is not None and region is not None else None
    active = Pickup.objects.filter(case=case, state__in=ACTIVE_STATES)
    if ignore_pickup_id is not None:
        active = active.exclude(pk=ignore_pickup_id)
    reasons = policy.refusals(
        case_in_awaiting_return=case.state == State.AWAITING_RETURN, has_active_pickup=active.exists(),
        region_known=region is not None, region_remote=bool(region and region.is_remote), terms=terms,
        parcel=parcel, slot_has_room=None,
    )
    city_code = region.city_code if region is not None else ""
    slots: list[Slot] = []
    serves_region = courier is not None and terms is not None and not (
        {policy.REGION_NOT_COVERED, policy.REMOTE_REGION} & set(reasons))
    if with_slots and serves_region and courier is not None:
        slots = [s for s in slots_ensure(courier=courier, region_code=city_code, now=now) if s.remaining > 0]
        if not slots:
            reasons.append(policy.NO_SLOT)
    fee = (policy.fee_for(parcel.weight_grams, first_kg_fee=terms.first_kg_fee, extra_kg_fee=terms.extra_kg_fee)
           if terms is not None else None)
    return Assessment(reasons=reasons, courier=courier, region=region, city_code=city_code, parcel=parcel, fee=fee,
                      payer=policy.payer_for(case.freight_payer), slots=slots)


def _refuse(reasons: list[str]) -> PickupError:
    code = policy.first_reason(reasons) or policy.WRONG_STATE
    detail = {
        policy.WRONG_STATE: _("当前售后单状态不能预约上门取件"),
        policy.PICKUP_ACTIVE: _("该售后单已有进行中的上门取件"),
        policy.REGION_NOT_COVERED: _("您的地址不在上门取件服务范围内"),
        policy.REMOTE_REGION: _("偏远地区暂不支持上门取件"),
        policy.OVERWEIGHT: _("包裹超过快递员可取件的重量上限"),
        policy.OVERSIZE: _("包裹尺寸超过快递员可取件的上限"),
        policy.NO_SLOT: _("该时段已约满，请选择其他时段"),
    }[code]
    return PickupError(code, detail, status=409 if code in policy.CONFLICT_REASONS else 400,
                       extra={"reasons": sorted(reasons, key=policy.REASON_ORDER.index)})


def _require_consumer(actor: User | None, case: AfterSalesCase | None) -> AfterSalesCase:
    role = role_of(actor, case) if case is not None and actor is not None else None
    if case is None or role is None:
        raise PickupError("not_found", _("找不到该售后单"), status=404)
    if role != "consumer":
        raise PickupError("permission_denied", _("只有买家本人可以预约上门取件"), status=403)
    return case


def _parse_slot_id(value: Any) -> int:
    if isinstance(value, bool) or value in (None, ""):
        raise PickupError("required", _("请选择取件时段"), field="slot")
    try:
        return int(str(value).strip())
    except ValueError as exc:
        raise PickupError("invalid", _("取件时段无效"), field="slot") from exc


@dataclass(frozen=True)
class Address:
    region: str
    line: str
    contact: str
    phone: str


def _address(case: AfterSalesCase, override: Any) -> Address:
    """The order's address, with any field the consumer gave instead."""
    order = case.order_item.order
    base = Address(region=order.address_region, line=order.address_line, contact=order.address_contact,
                   phone=order.address_phone)
    if override in (None, "", {}):
        return base
    if not isinstance(override, dict):
        raise PickupError("invalid", _("地址格式不正确"), field="address")
    values: dict[str, str] = {}
    limits = {"region": 6, "line": 255, "contact": 100, "phone": 32}
    for key, limit in limits.items():
        raw = override.get(key)
        if raw is None or raw == "":
            values[key] = getattr(base, key)
            continue
        if not isinstance(raw, str | int) or isinstance(raw, bool) or len(str(raw).strip()) > limit:
            raise PickupError("invalid", _("地址格式不正确"), field=f"address.{key}")
        values[key] = str(raw).strip()
    if Region.resolve(values["region"]) is None and values["region"] != base.region:
        raise PickupError("invalid", _("地区编码无效"), field="address.region")
    return Address(**values)


def _lock_case(case_id: int) -> AfterSalesCase | None:
    return (AfterSalesCase.objects.select_for_update(of=("self",))
            .select_related("order_item__order", "order_item__product", "consumer", "shop")
            .filter(pk=case_id).first())


def _lock_pickup(pickup_id: int) -> Pickup | None:
    """Lock the pickup's case, then the pickup (the services' lock order)."""
    case_id = Pickup.objects.filter(pk=pickup_id).values_list("case_id", flat=True).first()
    if case_id is None:
        return None
    case = _lock_case(case_id)
    pickup = (Pickup.objects.select_for_update(of=("self",)).select_related("courier", "slot")
              .filter(pk=pickup_id).first())
    if pickup is not None and case is not None:
        pickup.case = case
    return pickup


def _take_place(slot: Slot) -> None:
    """One place of the slot, or no_slot: a conditional UPDATE, so a race for the last place has one winner."""
    if not Slot.objects.filter(pk=slot.pk, booked__lt=F("capacity")).update(booked=F("booked") + 1):
        raise _refuse([policy.NO_SLOT])


def _release_place(slot_id: int) -> None:
    Slot.objects.filter(pk=slot_id, booked__gt=0).update(booked=F("booked") - 1)


def _checked_slot(slot_id: int, *, courier: Courier, city_code: str, now: datetime, kind: str = "pickup") -> Slot:
    slot = Slot.objects.filter(pk=slot_id).first()
    if slot is None or slot.courier_id != courier.pk or slot.region_code != city_code or slot.kind != kind:
        raise PickupError("invalid", _("该时段不适用于您的地址"), field="slot")
    if not policy.slot_bookable(slot.start, now):
        raise PickupError("invalid", _("该时段已不可预约"), field="slot")
    return slot


def _event(pickup: Pickup, *, action: str, from_state: str | None, source: str, at: datetime,
           payload: dict[str, Any] | None = None) -> PickupEvent:
    return PickupEvent.objects.create(pickup=pickup, at=at, action=action, from_state=from_state,
                                      to_state=pickup.state, payload=payload or {}, source=source)


def _consumer_ship_deadline(case: AfterSalesCase) -> Any:
    deadline = running_deadline(case)
    return deadline if deadline is not None and deadline.name == DeadlineName.CONSUMER_SHIP else None


def _extend_deadline(case: AfterSalesCase, slot: Slot) -> datetime | None:
    """Move consumer_ship to cover the booked slot; return its due time before the move."""
    deadline = _consumer_ship_deadline(case)
    if deadline is None:
        return None
    before = deadline.due_at
    due = policy.extended_due(before, slot.end)
    if due != before:
        deadline_move(deadline=deadline, due_at=due)
    return before


def _release_deadline(pickup: Pickup, now: datetime) -> None:
    deadline = _consumer_ship_deadline(pickup.case)
    if deadline is None or pickup.original_due_at is None:
        return
    due = policy.released_due(pickup.original_due_at, now)
    if due != deadline.due_at:
        deadline_move(deadline=deadline, due_at=due)


def _enqueue_dispatch(pickup_id: int) -> None:
    """The booking's dispatch task, through the outbox (portal.outbox): written with the booking, published
    after commit; with the broker down the booking stands and the relay publishes it later."""
    outbox_put("pickups.tasks.dispatch_pickup", [pickup_id])


def _enqueue_courier_cancel(pickup_id: int) -> None:
    """The courier's cancellation, through the outbox; one per pickup (its key)."""
    outbox_put("pickups.tasks.cancel_courier_booking", [pickup_id], key=f"courier-cancel:{pickup_id}")
