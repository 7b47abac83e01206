"""The parties' actions on a case, from the merchant's answer to completion."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.utils.translation import gettext as _

from portal.models import User

from .. import policy
from ..choices import Action, ActorRole, Kind, Reason, State
from ..models import AfterSalesCase, PlatformSetting, Refund
from ..notifications import FAST_REFUND_REFUSED_TEXT, notify_staff
from ..refunds import refund_create
from .base import (
    CaseError,
    _mark_merchant_response,
    _parse_amount,
    _refund_now,
    _require_text,
    _run,
    event_append,
)


def _refund_if_refunded(case: AfterSalesCase, role: str, from_state: str) -> None:
    """After a move into `refunded`: the case's one Refund (none again after a fast refund)."""
    if case.state == State.REFUNDED:
        _refund_now(case)


def case_approve(*, case_id: int, actor: User | None, now: datetime | None = None,
                 expected_state: str | None = None) -> AfterSalesCase:
    def apply(case: AfterSalesCase, role: str) -> dict:
        _mark_merchant_response(case, role, now)
        if role == ActorRole.SYSTEM:
            case.auto_approved = True
        case.approve()
        return {"auto": role == ActorRole.SYSTEM} if role == ActorRole.SYSTEM else {}

    return _run(case_id=case_id, actor=actor, action=Action.APPROVE, apply=apply, now=now, after=_refund_if_refunded,
                expected_state=expected_state)


def case_reject(*, case_id: int, actor: User, reason: Any, reason_code: str = "",
                now: datetime | None = None) -> AfterSalesCase:
    def apply(case: AfterSalesCase, role: str) -> dict:
        text = _require_text(reason, "reason")
        _mark_merchant_response(case, role, now)
        case.reject()
        return {"reason": text, **({"reason_code": reason_code} if reason_code else {})}

    return _run(case_id=case_id, actor=actor, action=Action.REJECT, apply=apply, now=now)


def case_revise(*, case_id: int, actor: User, amount: Any = None, reason: Any = None,
                description: Any = None, now: datetime | None = None) -> AfterSalesCase:
    def apply(case: AfterSalesCase, role: str) -> dict:
        changes: dict[str, Any] = {}
        new_reason = case.reason
        if reason not in (None, ""):
            if reason not in Reason.values:
                raise CaseError("invalid", _("售后原因无效"), field="reason")
            new_reason = reason
        new_amount = _parse_amount(amount)
        item = case.order_item
        others = item.cases.exclude(pk=case.pk).select_related("refund")
        ledger = policy.item_ledger(item, others)
        if new_reason != case.reason:
            if new_reason not in policy.REASONS_FOR_KIND[case.kind] or (
                new_reason == Reason.NOT_SHIPPED and item.order.shipped_at is not None
            ) or (new_reason == Reason.NOT_RECEIVED and item.order.shipped_at is None):
                raise CaseError("reason_not_applicable", _("该原因不适用于所选的售后类型"), field="reason")
            if new_reason == Reason.NO_REASON and item.product.no_reason_excluded:
                raise CaseError("category_excluded", _("该商品不支持七天无理由退换"), field="reason")
            if new_reason in policy.QUALITY_REASONS | {Reason.DAMAGED_IN_TRANSIT} and not case.evidence.exists():
                raise CaseError("evidence_required", _("请至少上传一张照片作为凭证"), field="evidence")
            changes["reason"] = [case.reason, new_reason]
            case.reason = new_reason
            case.freight_payer = policy.freight_payer(case.kind, new_reason,
                                                      insured=item.order.return_shipping_insurance)
        if new_amount is not None:
            if case.kind in (Kind.EXCHANGE, Kind.REPAIR):
                if new_amount != 0:
                    raise CaseError("amount_not_allowed", _("换货和维修不涉及退款金额"), field="amount")
            else:
                limit = policy.claimable(item, case.quantity, ledger)
                if new_amount > limit:
                    raise CaseError("amount_exceeds_paid", _("退款金额不能超过 ¥%(max)s") % {"max": limit},
                                    field="amount")
                if new_amount <= 0:
                    raise CaseError("invalid", _("退款金额须大于 0"), field="amount")
                changes["amount"] = [str(case.amount), str(new_amount)]
                case.amount = new_amount
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


def case_escalate(*, case_id: int, actor: User | None, statement: Any = "", now: datetime | None = None,
                  expected_state: str | None = None) -> AfterSalesCase:
    def apply(case: AfterSalesCase, role: str) -> dict:
        text = statement.strip() if isinstance(statement, str) else ""
        if len(text) > 4000:
            raise CaseError("invalid", _("内容过长"), field="statement")
        case.escalate()
        return {"statement": text} if text else {}

    def after(case: AfterSalesCase, role: str, from_state: str) -> None:
        notify_staff(case=case, kind="escalated", text=f"售后单 {case.number} 申请平台介入")

    return _run(case_id=case_id, actor=actor, action=Action.ESCALATE, apply=apply, now=now, after=after,
                expected_state=expected_state)


def _fast_refund_applies(case: AfterSalesCase) -> bool:
    amount = case.refund_amount if case.refund_amount is not None else case.amount
    return (
        case.refund_on_receipt
        and case.consumer.good_standing
        and amount is not None
        and amount > 0
        and amount <= PlatformSetting.current().fast_refund_limit
    )


def case_ship_return(*, case_id: int, actor: User | None, carrier: Any, tracking_number: Any,
                     now: datetime | None = None, via_pickup: bool = False) -> AfterSalesCase:
    def apply(case: AfterSalesCase, role: str) -> dict:
        case.return_carrier = _require_text(carrier, "carrier", 64)
        case.return_tracking = _require_text(tracking_number, "tracking_number", 64)
        case.ship_return()
        payload = {"carrier": case.return_carrier, "tracking_number": case.return_tracking}
        if via_pickup:
            payload["pickup"] = True
        return payload

    def after(case: AfterSalesCase, role: str, from_state: str) -> None:
        if _fast_refund_applies(case):
            refund_create(case=case, amount=case.refund_amount or case.amount, fast=True)
            event_append(case=case, actor=None, role=ActorRole.SYSTEM, action="fast_refund",
                         from_state=case.state, to_state=case.state,
                         payload={"amount": str(case.refund_amount or case.amount)}, at=now)

    return _run(case_id=case_id, actor=actor, action=Action.SHIP_RETURN, apply=apply, now=now, after=after)


def case_confirm_receipt(*, case_id: int, actor: User | None, now: datetime | None = None,
                         expected_state: str | None = None) -> AfterSalesCase:
    def apply(case: AfterSalesCase, role: str) -> dict:
        _mark_merchant_response(case, role, now)
        case.confirm_receipt()
        return {"auto": True} if role == ActorRole.SYSTEM else {}

    return _run(case_id=case_id, actor=actor, action=Action.CONFIRM_RECEIPT, apply=apply, now=now,
                after=_refund_if_refunded,
                expected_state=expected_state)


def case_refuse_receipt(*, case_id: int, actor: User, reason: Any, reason_code: str = "",
                        now: datetime | None = None) -> AfterSalesCase:
    def apply(case: AfterSalesCase, role: str) -> dict:
        text = _require_text(reason, "reason")
        case.refuse_receipt()
        return {"reason": text, **({"reason_code": reason_code} if reason_code else {})}

    def after(case: AfterSalesCase, role: str, from_state: str) -> None:
        refund = Refund.objects.filter(case=case).first()
        if refund is not None and refund.fast:
            notify_staff(case=case, kind="fast_refund_refused",
                         text=FAST_REFUND_REFUSED_TEXT.format(n=case.number))

    return _run(case_id=case_id, actor=actor, action=Action.REFUSE_RECEIPT, apply=apply, now=now, after=after)


def _ship_back(transition: str, carrier: Any, tracking_number: Any) -> Callable[[AfterSalesCase, str], dict]:
    """The merchant sends goods to the consumer (replacement or repaired item) with carrier and tracking."""
    def apply(case: AfterSalesCase, role: str) -> dict:
        case.replacement_carrier = _require_text(carrier, "carrier", 64)
        case.replacement_tracking = _require_text(tracking_number, "tracking_number", 64)
        getattr(case, transition)()
        return {"carrier": case.replacement_carrier, "tracking_number": case.replacement_tracking}

    return apply


def case_ship_replacement(*, case_id: int, actor: User, carrier: Any, tracking_number: Any,
                          now: datetime | None = None) -> AfterSalesCase:
    return _run(case_id=case_id, actor=actor, action=Action.SHIP_REPLACEMENT,
                apply=_ship_back("ship_replacement", carrier, tracking_number), now=now)


def case_ship_repaired(*, case_id: int, actor: User, carrier: Any, tracking_number: Any,
                       now: datetime | None = None) -> AfterSalesCase:
    return _run(case_id=case_id, actor=actor, action=Action.SHIP_REPAIRED,
                apply=_ship_back("ship_repaired", carrier, tracking_number), now=now)


def case_approve_refund(*, case_id: int, actor: User, now: datetime | None = None) -> AfterSalesCase:
    def apply(case: AfterSalesCase, role: str) -> dict:
        others = case.order_item.cases.exclude(pk=case.pk).select_related("refund")
        ledger = policy.item_ledger(case.order_item, others)
        case.refund_amount = policy.claimable(case.order_item, case.quantity, ledger)
        case.approve_refund()
        return {"amount": str(case.refund_amount)}

    def after(case: AfterSalesCase, role: str, from_state: str) -> None:
        _refund_now(case, case.refund_amount)

    return _run(case_id=case_id, actor=actor, action=Action.APPROVE_REFUND, apply=apply, now=now, after=after)


def case_confirm_completion(*, case_id: int, actor: User | None, now: datetime | None = None,
                            expected_state: str | None = None) -> AfterSalesCase:
    return _run(case_id=case_id, actor=actor, action=Action.CONFIRM_COMPLETION,
                apply=lambda c, r: c.confirm_completion(), now=now, expected_state=expected_state)
