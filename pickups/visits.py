"""On-site repair visits (上门维修, docs/visits.md): the pickup machinery — courier coverage, region rules,
2-hour slots with places, a fee and its payer — generalised to a technician who comes to the consumer.

The case side (`book_visit`, `cancel_visit`, the three outcomes) is `cases/services/visits.py`; this module
is what it needs of couriers: the assessment and the slot's place (inside the case's locked transaction), the
provider calls after commit (book, cancel; re-sent by the outbox sweep), and the technician's outcome from a
signed webhook, applied through the case services.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cases.choices import Kind, State
from cases.models import AfterSalesCase
from cases.services.visits import case_visit_outcome
from portal.errors import DomainError
from portal.models import Region

from . import conf, effects, policy
from .couriers import VisitRequest, gateway_for, webhook_url
from .models import LIVE_VISIT_STATES, VISIT_OUTCOMES, Courier, RepairVisit, Slot, SlotKind, VisitState
from .selectors import _local
from .services.base import (
    PickupError,
    _checked_slot,
    _parse_slot_id,
    _release_place,
    _take_place,
    courier_terms,
    slots_ensure,
)

log = logging.getLogger(__name__)

VISIT_NOT_OFFERED = policy.VISIT_NOT_OFFERED
REASON_ORDER = policy.VISIT_REASON_ORDER
CONFLICT_REASONS = frozenset({policy.WRONG_STATE, policy.NO_SLOT})


def visit_provider() -> Courier | None:
    """The provider that sends technicians: the default courier if it offers visits, else the first that does."""
    return (Courier.objects.filter(active=True, offers_visits=True).order_by("-is_default", "id").first())


@dataclass
class VisitAssessment:
    reasons: list[str]
    courier: Courier | None
    region: Region | None
    city_code: str
    fee: Decimal | None
    payer: str
    slots: list[Slot] = field(default_factory=list)

    @property
    def eligible(self) -> bool:
        return not self.reasons


def visit_assess(*, case: AfterSalesCase, now: datetime | None = None, with_slots: bool = True) -> VisitAssessment:
    """Every reason a visit cannot be booked for the case (the order's address), the fee and the open slots."""
    now = now or timezone.now()
    reasons: list[str] = []
    if case.state != State.AWAITING_RETURN:
        reasons.append(policy.WRONG_STATE)
    courier = visit_provider()
    if case.kind != Kind.REPAIR or not case.order_item.product.on_site_service or courier is None:
        reasons.append(VISIT_NOT_OFFERED)
    region = Region.resolve(case.order_item.order.address_region)
    terms = courier_terms(courier, region) if courier is not None and region is not None else None
    if courier is not None:
        if terms is None or region is None:
            reasons.append(policy.REGION_NOT_COVERED)
        elif region.is_remote and not terms.covers_remote:
            reasons.append(policy.REMOTE_REGION)
        elif not terms.covered:
            reasons.append(policy.REGION_NOT_COVERED)
    city_code = region.city_code if region is not None else ""
    slots: list[Slot] = []
    if with_slots and courier is not None and not reasons:
        slots = [s for s in slots_ensure(courier=courier, region_code=city_code, now=now, kind=SlotKind.VISIT)
                 if s.remaining > 0]
        if not slots:
            reasons.append(policy.NO_SLOT)
    return VisitAssessment(reasons=reasons, courier=courier, region=region, city_code=city_code,
                           fee=courier.visit_fee if courier is not None else None,
                           payer=policy.payer_for(case.freight_payer), slots=slots)


def visit_refuse(reasons: list[str]) -> PickupError:
    ordered = sorted(reasons, key=REASON_ORDER.index)
    code = ordered[0] if ordered else policy.WRONG_STATE
    detail = {
        policy.WRONG_STATE: _("当前售后单状态不能预约上门维修"),
        VISIT_NOT_OFFERED: _("该商品不提供上门维修"),
        policy.REGION_NOT_COVERED: _("您的地址不在上门维修服务范围内"),
        policy.REMOTE_REGION: _("偏远地区暂不支持上门维修"),
        policy.NO_SLOT: _("该时段已约满，请选择其他时段"),
    }[code]
    return PickupError(code, detail, status=409 if code in CONFLICT_REASONS else 400, extra={"reasons": ordered})


def visit_options_dict(assessment: VisitAssessment) -> dict[str, Any]:
    """`GET /cases/{id}/visit/options/`: every reason, the fee and the open slots (200 also when refused)."""
    return {
        "eligible": assessment.eligible,
        "reasons": sorted(assessment.reasons, key=REASON_ORDER.index),
        "fee": str(assessment.fee) if assessment.fee is not None else None,
        "payer": assessment.payer,
        "consumer_fee": str(policy.consumer_fee(assessment.fee, assessment.payer))
        if assessment.fee is not None else None,
        "provider": assessment.courier.code if assessment.courier is not None else None,
        "region": assessment.region.code if assessment.region is not None else None,
        "slots": [{"id": s.pk, "start": _local(s.start), "end": _local(s.end), "remaining": s.remaining}
                  for s in assessment.slots] if assessment.eligible else [],
    }


def visit_book_locked(*, case: AfterSalesCase, slot_id: Any, now: datetime) -> RepairVisit:
    """Inside the case's locked transaction (`case_book_visit`): check, take the slot's place, record the visit;
    the provider is asked after commit."""
    slot_pk = _parse_slot_id(slot_id)
    assessment = visit_assess(case=case, now=now, with_slots=False)
    if assessment.reasons:
        raise visit_refuse(assessment.reasons)
    assert assessment.courier is not None and assessment.fee is not None
    slot = _checked_slot(slot_pk, courier=assessment.courier, city_code=assessment.city_code, now=now,
                         kind=SlotKind.VISIT)
    _take_place(slot)
    order = case.order_item.order
    visit = RepairVisit.objects.create(
        case=case, shop_id=case.shop_id, courier=assessment.courier, slot=slot,
        address_region=order.address_region, address_line=order.address_line,
        address_contact=order.address_contact, address_phone=order.address_phone,
        fee=assessment.fee, payer=assessment.payer, created_at=now,
    )
    _enqueue("dispatch_visit", visit.pk)
    return visit


def _enqueue(task_name: str, visit_id: int) -> None:
    def send() -> None:
        effects.visit_task_enqueue(task_name, visit_id)

    # robust: with the broker down the booking stands; the outbox sweep re-sends it
    transaction.on_commit(send, robust=True)


def visits_close_for_cases(case_ids: list[int], now: datetime) -> None:
    """Registered for cases leaving `awaiting_visit`: a visit still live (the consumer cancelled, the clock ran
    out, staff stepped in) is cancelled in the same transaction, its place freed, the provider told after
    commit. A visit whose outcome moved the case was closed before the move and is left alone."""
    for visit in RepairVisit.objects.select_for_update().filter(case_id__in=case_ids, state__in=LIVE_VISIT_STATES):
        RepairVisit.objects.filter(pk=visit.pk).update(state=VisitState.CANCELLED, closed_at=now)
        _release_place(visit.slot_id)
        if visit.reference:
            _enqueue("cancel_visit_at_provider", visit.pk)


def visit_dispatch(*, visit_id: int) -> RepairVisit | None:
    """Book the technician at the provider (no transaction is held over the call); idempotent by the visit's
    key at the provider, and a visit no longer `requested` is left alone."""
    visit = RepairVisit.objects.select_related("courier", "slot", "case").filter(pk=visit_id).first()
    if visit is None or visit.state != VisitState.REQUESTED:
        return visit
    answer = gateway_for(visit.courier).book_visit(VisitRequest(
        idempotency_key=visit.idempotency_key, reference=visit.case.number, region=visit.address_region,
        address_line=visit.address_line, contact=visit.address_contact, phone=visit.address_phone,
        slot_start=visit.slot.start, slot_end=visit.slot.end, callback_url=webhook_url(visit.courier)))
    now = timezone.now()
    updated = RepairVisit.objects.filter(pk=visit.pk, state=VisitState.REQUESTED).update(
        state=VisitState.CONFIRMED, reference=answer.waybill[:64], confirmed_at=now)
    if not updated:  # cancelled while the provider answered: tell it the booking is off
        RepairVisit.objects.filter(pk=visit.pk, reference="").update(reference=answer.waybill[:64])
        _enqueue_now("cancel_visit_at_provider", visit.pk)
    visit.refresh_from_db()
    return visit


def _enqueue_now(task_name: str, visit_id: int) -> None:
    try:
        effects.visit_task_enqueue(task_name, visit_id)
    except Exception:  # the outbox sweep sends it again
        log.exception("could not enqueue %s", task_name)


def visit_cancel_at_provider(*, visit_id: int) -> bool:
    visit = RepairVisit.objects.select_related("courier").filter(pk=visit_id).first()
    if (visit is None or visit.state != VisitState.CANCELLED or not visit.reference
            or visit.provider_cancelled_at is not None):
        return False
    gateway_for(visit.courier).cancel_visit(visit.reference)
    RepairVisit.objects.filter(pk=visit_id).update(provider_cancelled_at=timezone.now())
    return True


def visits_resend(*, now: datetime) -> int:
    """Outbox: book again visits left `requested` (their task lost) while their slot is still ahead, and tell
    the provider again about cancelled visits it has not acknowledged."""
    grace = now - timedelta(seconds=conf.redispatch_after_seconds())
    stuck = list(RepairVisit.objects.filter(state=VisitState.REQUESTED, created_at__lte=grace, slot__end__gt=now)
                 .values_list("pk", flat=True)[:500])
    for visit_id in stuck:
        effects.visit_task_enqueue("dispatch_visit", visit_id)
    owed = list(RepairVisit.objects.filter(
        state=VisitState.CANCELLED, provider_cancelled_at__isnull=True,
        closed_at__lte=now - timedelta(seconds=settings.OUTBOX_RESEND_AFTER_SECONDS),
        closed_at__gte=now - timedelta(seconds=settings.OUTBOX_RESEND_WINDOW_SECONDS),
    ).exclude(reference="").values_list("pk", flat=True)[:500])
    for visit_id in owed:
        effects.visit_task_enqueue("cancel_visit_at_provider", visit_id)
    return len(stuck) + len(owed)


def visit_for_event(courier: Courier, reference: str, key: str) -> RepairVisit | None:
    """The visit a provider's event names, by its service number or the booking's idempotency key."""
    if reference:
        visit = RepairVisit.objects.filter(courier=courier, reference=reference).order_by("-id").first()
        if visit is not None:
            return visit
    if key:
        return RepairVisit.objects.filter(courier=courier, idempotency_key=key).first()
    return None


def visit_outcome_apply(*, visit: RepairVisit, status: str, note: str = "", now: datetime | None = None) -> bool:
    """The technician's outcome (a webhook `status` of VISIT_OUTCOMES) → the case's system action of the same
    name. The visit is closed in the same transaction; a visit no longer live, or a case no longer
    `awaiting_visit` (the clock ran out first, staff stepped in), changes nothing and answers False."""
    now = now or timezone.now()
    try:
        with transaction.atomic():
            # the services' lock order: the case row, then the visit (a racing cancel_visit holds the case)
            AfterSalesCase.objects.select_for_update(of=("self",)).filter(pk=visit.case_id).first()
            closed = RepairVisit.objects.filter(pk=visit.pk, state__in=LIVE_VISIT_STATES).update(
                state=VISIT_OUTCOMES[status], closed_at=now, note=note[:255])
            if not closed:
                return False
            case_visit_outcome(case_id=visit.case_id, outcome=status, visit_id=visit.pk, note=note, now=now)
    except DomainError as exc:
        log.info("visit outcome %s for visit %s not applied: %s", status, visit.pk, exc.code)
        return False
    return True
