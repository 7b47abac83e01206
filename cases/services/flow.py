"""The parties' actions on a case, from the merchant's answer to completion."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from portal.models import User

from .. import policy
from ..choices import Action, ActorRole, Kind, Reason, State
from ..evidence import PHOTO_TYPES
from ..models import AfterSalesCase, PlatformSetting, Refund, RefundPayout
from ..notifications import notify_staff
from ..quality.models import QualitySetting
from ..quality.trust import buyer_record, quota_multiplier
from .base import CaseError, _mark_merchant_response, _parse_amount, _parse_bool, _require_text, _run
from .inputs import Amount, Flag, Text
from .money import paid_so_far, pay, refuse_below_paid


def case_approve(*, case_id: int, actor: User | None, now: datetime | None = None,
                 expected_state: str | None = None) -> AfterSalesCase:
    def apply(case: AfterSalesCase, role: str) -> dict:
        _mark_merchant_response(case, role, now)
        if role == ActorRole.SYSTEM:
            case.auto_approved = True
        case.approve()
        if case.refund_amount is not None:
            refuse_below_paid(case, case.refund_amount)
        return {"auto": role == ActorRole.SYSTEM} if role == ActorRole.SYSTEM else {}

    return _run(case_id=case_id, actor=actor, action=Action.APPROVE, apply=apply, now=now,
                expected_state=expected_state)


def case_reject(*, case_id: int, actor: User, reason: Text, reason_code: Text = "",
                now: datetime | None = None) -> AfterSalesCase:
    def apply(case: AfterSalesCase, role: str) -> dict:
        text = _require_text(reason, "reason")
        _mark_merchant_response(case, role, now)
        case.reject()
        return {"reason": text, **({"reason_code": reason_code} if reason_code else {})}

    return _run(case_id=case_id, actor=actor, action=Action.REJECT, apply=apply, now=now)


def case_revise(*, case_id: int, actor: User, amount: Amount = None, reason: Text = None,
                description: Text = None, condition_intact: Flag = None, now: datetime | None = None) -> AfterSalesCase:
    """A new reason re-runs the whole eligibility table as at the time of the revision (the case itself aside);
    keeping the reason keeps the case's standing and checks only what changes (lifecycle.md)."""
    def apply(case: AfterSalesCase, role: str) -> dict:
        at = now or timezone.now()
        changes: dict[str, Any] = {}
        new_reason = case.reason
        if reason not in (None, ""):
            if reason not in Reason.values:
                raise CaseError("invalid", _("售后原因无效"), field="reason")
            new_reason = reason
        new_amount = _parse_amount(amount)
        intact = case.condition_intact if condition_intact in (None, "") else _parse_bool(condition_intact,
                                                                                            "condition_intact")
        item = case.order_item
        others = item.cases.exclude(pk=case.pk).select_related("refund")
        ledger = policy.item_ledger(item, others)
        photos = case.evidence.filter(role=ActorRole.CONSUMER, content_type__in=PHOTO_TYPES).count()
        refund_kind = case.kind in (Kind.REFUND_ONLY, Kind.RETURN_REFUND)
        if new_reason != case.reason:
            request = policy.Request(kind=case.kind, reason=new_reason, quantity=case.quantity,
                                     amount=new_amount if new_amount is not None else (
                                         case.amount if refund_kind else None),
                                     condition_intact=intact, evidence_count=photos)
            refusal = policy.check_eligibility(item, request, now=at, ledger=ledger)
            if refusal is not None:
                raise CaseError(refusal.code, refusal.detail, field=refusal.field or "reason", status=refusal.status)
            changes["reason"] = [case.reason, new_reason]
            case.reason = new_reason
            case.freight_payer = policy.freight_payer(case.kind, new_reason,
                                                      insured=item.order.return_shipping_insurance)
        elif new_reason in policy.QUALITY_REASONS | {Reason.DAMAGED_IN_TRANSIT} and photos < 1:
            raise CaseError("evidence_required", _("请至少上传一张照片作为凭证"), field="evidence")
        if intact != case.condition_intact:
            changes["condition_intact"] = intact
            case.condition_intact = intact
        if new_amount is not None:
            limit = policy.claimable(item, case.quantity, ledger)
            if new_amount > limit:
                raise CaseError("amount_exceeds_paid", _("退款金额不能超过 ¥%(max)s") % {"max": limit},
                                field="amount")
            if not refund_kind:
                if new_amount != 0:
                    raise CaseError("amount_not_allowed", _("换货和维修不涉及退款金额"), field="amount")
            else:
                if new_amount <= 0:
                    raise CaseError("invalid", _("退款金额须大于 0"), field="amount")
                changes["amount"] = [str(case.amount), str(new_amount)]
                case.amount = new_amount
        if refund_kind:
            refuse_below_paid(case, case.amount)
        if description not in (None, ""):
            if not isinstance(description, str) or len(description) > 2000:
                raise CaseError("invalid", _("描述过长"), field="description")
            changes["description"] = description.strip()
            case.description = description.strip()
        case.revise()
        return changes

    return _run(case_id=case_id, actor=actor, action=Action.REVISE, apply=apply, now=now)


def case_withdraw(*, case_id: int, actor: User, now: datetime | None = None) -> AfterSalesCase:
    return _run(case_id=case_id, actor=actor, action=Action.WITHDRAW, apply=lambda c, r: c.withdraw(), now=now)


def case_expire(*, case_id: int, now: datetime | None = None, expected_state: str | None = None) -> AfterSalesCase:
    return _run(case_id=case_id, actor=None, action=Action.EXPIRE, apply=lambda c, r: c.expire(), now=now,
                expected_state=expected_state)


def case_escalate(*, case_id: int, actor: User | None, statement: Text = "", now: datetime | None = None,
                  expected_state: str | None = None) -> AfterSalesCase:
    def apply(case: AfterSalesCase, role: str) -> dict:
        text = statement.strip() if isinstance(statement, str) else ""
        if len(text) > 4000:
            raise CaseError("invalid", _("内容过长"), field="statement")
        case.escalate()
        return {"statement": text} if text else {}

    return _run(case_id=case_id, actor=actor, action=Action.ESCALATE, apply=apply, now=now,
                expected_state=expected_state)


def fast_refund_quota(consumer: User, *, limit: Decimal, now: datetime) -> Decimal:
    """What the consumer may have fast-refunded and not yet received back by merchants (lifecycle.md), from
    their last 90 days (docs/quality.md "Buyer trust"): 5 × the limit for a clean record with ≥ 10 orders and
    a low refund rate, 3 × for any other clean record (no return refused on receipt, no dispute lost), 1 × with
    one of those, 0 with two or more. `good_standing` stays the staff override (checked by the caller)."""
    record = buyer_record(consumer.pk, now=now)
    return limit * quota_multiplier(record, trusted_refund_rate=QualitySetting.current().trusted_refund_rate)


def fast_refund_outstanding(consumer: User) -> Decimal:
    """Fast refunds paid on returns the merchant has not yet received (still in transit)."""
    total = RefundPayout.objects.filter(
        fast=True, refund__case__consumer=consumer, refund__case__state=State.RETURN_IN_TRANSIT,
    ).aggregate(total=Sum("amount"))["total"]
    return total or policy.ZERO


def _fast_refund_due(case: AfterSalesCase, now: datetime) -> Decimal | None:
    """The amount a fast refund pays now (the difference to what is already paid), or None when none applies."""
    amount = case.refund_amount if case.refund_amount is not None else case.amount
    if not (case.refund_on_receipt and case.consumer.good_standing and amount is not None and amount > 0):
        return None
    limit = PlatformSetting.current().fast_refund_limit
    due = amount - paid_so_far(case)
    if amount > limit or due <= 0:
        return None
    if fast_refund_outstanding(case.consumer) + due > fast_refund_quota(case.consumer, limit=limit, now=now):
        return None
    return due


def case_ship_return(*, case_id: int, actor: User | None, carrier: Text, tracking_number: Text,
                     now: datetime | None = None, via_pickup: bool = False) -> AfterSalesCase:
    def apply(case: AfterSalesCase, role: str) -> dict:
        case.return_carrier = _require_text(carrier, "carrier", 64)
        case.return_tracking = _require_text(tracking_number, "tracking_number", 64)
        case.ship_return()
        payload: dict[str, Any] = {"carrier": case.return_carrier, "tracking_number": case.return_tracking}
        if via_pickup:
            payload["pickup"] = True
        return payload

    def after(case: AfterSalesCase, role: str, from_state: str) -> None:
        at = now or timezone.now()
        if _fast_refund_due(case, at) is not None:
            pay(case, case.refund_amount if case.refund_amount is not None else case.amount, fast=True, now=at)

    return _run(case_id=case_id, actor=actor, action=Action.SHIP_RETURN, apply=apply, now=now, after=after)


def case_confirm_receipt(*, case_id: int, actor: User | None, now: datetime | None = None,
                         expected_state: str | None = None) -> AfterSalesCase:
    def apply(case: AfterSalesCase, role: str) -> dict:
        _mark_merchant_response(case, role, now)
        case.confirm_receipt()
        return {"auto": True} if role == ActorRole.SYSTEM else {}

    return _run(case_id=case_id, actor=actor, action=Action.CONFIRM_RECEIPT, apply=apply, now=now,
                expected_state=expected_state)


def case_refuse_receipt(*, case_id: int, actor: User, reason: Text, reason_code: Text = "",
                        now: datetime | None = None) -> AfterSalesCase:
    def apply(case: AfterSalesCase, role: str) -> dict:
        text = _require_text(reason, "reason")
        case.refuse_receipt()
        return {"reason": text, **({"reason_code": reason_code} if reason_code else {})}

    def after(case: AfterSalesCase, role: str, from_state: str) -> None:
        refund = Refund.objects.filter(case=case).first()
        if refund is not None and refund.fast:
            notify_staff(case=case, kind="fast_refund_refused")

    return _run(case_id=case_id, actor=actor, action=Action.REFUSE_RECEIPT, apply=apply, now=now, after=after)


def _ship_back(transition: str, carrier: Text, tracking_number: Text) -> Callable[[AfterSalesCase, str], dict]:
    """The merchant sends goods to the consumer (replacement or repaired item) with carrier and tracking."""
    def apply(case: AfterSalesCase, role: str) -> dict:
        case.replacement_carrier = _require_text(carrier, "carrier", 64)
        case.replacement_tracking = _require_text(tracking_number, "tracking_number", 64)
        getattr(case, transition)()
        return {"carrier": case.replacement_carrier, "tracking_number": case.replacement_tracking}

    return apply


def case_ship_replacement(*, case_id: int, actor: User, carrier: Text, tracking_number: Text,
                          now: datetime | None = None) -> AfterSalesCase:
    return _run(case_id=case_id, actor=actor, action=Action.SHIP_REPLACEMENT,
                apply=_ship_back("ship_replacement", carrier, tracking_number), now=now)


def case_ship_repaired(*, case_id: int, actor: User, carrier: Text, tracking_number: Text,
                       now: datetime | None = None) -> AfterSalesCase:
    return _run(case_id=case_id, actor=actor, action=Action.SHIP_REPAIRED,
                apply=_ship_back("ship_repaired", carrier, tracking_number), now=now)


def case_approve_refund(*, case_id: int, actor: User, now: datetime | None = None) -> AfterSalesCase:
    def apply(case: AfterSalesCase, role: str) -> dict:
        others = case.order_item.cases.exclude(pk=case.pk).select_related("refund")
        ledger = policy.item_ledger(case.order_item, others)
        amount = max(policy.claimable(case.order_item, case.quantity, ledger), paid_so_far(case))
        case.refund_amount = amount
        case.approve_refund()
        return {"amount": str(amount)}

    return _run(case_id=case_id, actor=actor, action=Action.APPROVE_REFUND, apply=apply, now=now)


def case_confirm_completion(*, case_id: int, actor: User | None, now: datetime | None = None,
                            expected_state: str | None = None) -> AfterSalesCase:
    return _run(case_id=case_id, actor=actor, action=Action.CONFIRM_COMPLETION,
                apply=lambda c, r: c.confirm_completion(), now=now, expected_state=expected_state)
