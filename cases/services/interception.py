"""Interception (拦截, docs/interception.md): a parcel still on its way to the consumer is stopped by the courier.

`intercept` moves the case to `intercepting`; the pickups app (which knows couriers) asks the courier to stop
the parcel once the move commits (`cases.hooks.on_entering`). The courier's answer — by the gateway's reply or a
signed webhook — comes back through `case_intercept_result`: `intercepted` is the system's `approve`
(→ `refunded`), `intercept_failed` sends the case back to the merchant with a fresh `merchant_response` clock.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils.translation import gettext as _

from portal.models import User

from .. import conditions
from ..choices import Action, State
from ..models import AfterSalesCase
from .base import CaseError, _mark_merchant_response, _run

INTERCEPTED = "intercepted"
INTERCEPT_FAILED = "intercept_failed"


def case_intercept(*, case_id: int, actor: User, now: datetime | None = None) -> AfterSalesCase:
    def apply(case: AfterSalesCase, role: str) -> dict:
        order = case.order_item.order
        refusal = conditions.intercept_refusal(case, order)
        if refusal is not None:
            raise CaseError(refusal[0], _("该订单不能拦截：仅限已发货、未签收、有快递公司和运单号的“未收到货”仅退款申请"),
                            status=refusal[1])
        _mark_merchant_response(case, role, now)
        case.intercept()
        return {"carrier": order.carrier, "waybill": order.waybill}

    return _run(case_id=case_id, actor=actor, action=Action.INTERCEPT, apply=apply, now=now)


def case_intercept_failed(*, case_id: int, actor: User | None = None, reason: str = "",
                          now: datetime | None = None, expected_state: str | None = None) -> AfterSalesCase:
    """Back to the merchant's decision with a fresh `merchant_response` clock (the courier could not stop
    the parcel, or the `interception` clock ran out)."""
    def apply(case: AfterSalesCase, role: str) -> dict:
        case.intercept_failed()
        payload: dict[str, Any] = {}
        if reason:
            payload["reason"] = reason[:255]
        else:  # the system with no courier answer: the `interception` clock ran out
            payload["expired"] = True
        return payload

    return _run(case_id=case_id, actor=actor, action=Action.INTERCEPT_FAILED, apply=apply, now=now,
                expected_state=expected_state or State.INTERCEPTING)


def case_intercept_result(*, case_id: int, outcome: str, reason: str = "",
                          now: datetime | None = None) -> AfterSalesCase:
    """The courier's answer, applied by the system. A case no longer `intercepting` (the clock already ran
    out, or staff intervened) answers 409 and changes nothing."""
    if outcome == INTERCEPTED:
        def apply(case: AfterSalesCase, role: str) -> dict:
            case.auto_approved = True
            case.approve()
            return {"intercepted": True, "waybill": case.order_item.order.waybill}

        return _run(case_id=case_id, actor=None, action=Action.APPROVE, apply=apply, now=now,
                    expected_state=State.INTERCEPTING)
    if outcome == INTERCEPT_FAILED:
        return case_intercept_failed(case_id=case_id, reason=reason or "courier_failed", now=now)
    raise CaseError("invalid", _("未知的拦截结果"), field="status")
