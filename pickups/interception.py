"""The courier side of interception (docs/interception.md): ask the order's courier to stop the parcel, and
apply its answer (the gateway's reply, or a signed webhook event) to the case through the case services."""

from __future__ import annotations

import logging
from datetime import datetime

from cases.choices import State
from cases.models import AfterSalesCase
from cases.services.interception import INTERCEPT_FAILED, INTERCEPTED, case_intercept_result
from portal.errors import DomainError
from portal.outbox import Message, outbox_put_many

from .couriers import gateway_for
from .models import Courier

log = logging.getLogger(__name__)
RESULTS = (INTERCEPTED, INTERCEPT_FAILED)


def interceptions_request_later(case_ids: list[int], now: datetime) -> None:
    """Registered for cases entering `intercepting`: a task per case asks the courier, owed through the outbox
    (portal.outbox: written with the move in one INSERT, published after commit)."""
    outbox_put_many(Message(task="pickups.tasks.request_interception", args=[case_id]) for case_id in case_ids)


def interception_request(*, case_id: int) -> str | None:
    """Ask the courier (no transaction is held over the call); apply a final answer."""
    case = AfterSalesCase.objects.select_related("order_item__order").filter(pk=case_id).first()
    if case is None or case.state != State.INTERCEPTING:
        return None
    order = case.order_item.order
    courier = Courier.objects.filter(code=order.carrier).first()
    if courier is None or not order.waybill:
        interception_apply(case_id=case_id, status=INTERCEPT_FAILED, reason="unknown_courier")
        return INTERCEPT_FAILED
    answer = gateway_for(courier).intercept(order.waybill)
    if answer.status in RESULTS:
        interception_apply(case_id=case_id, status=answer.status, reason=answer.reason)
    return answer.status


def interception_apply(*, case_id: int, status: str, reason: str = "") -> bool:
    """Apply a courier result to the case; answers whether it moved (a case no longer intercepting: no)."""
    try:
        case_intercept_result(case_id=case_id, outcome=status, reason=reason)
    except DomainError as exc:
        log.info("interception result %s for case %s not applied: %s", status, case_id, exc.code)
        return False
    return True


def interception_case_for(courier: Courier, waybill: str) -> int | None:
    """The intercepting case whose order went out with this courier and waybill."""
    if not waybill:
        return None
    return (AfterSalesCase.objects.filter(state=State.INTERCEPTING, order_item__order__carrier=courier.code,
                                          order_item__order__waybill=waybill)
            .values_list("pk", flat=True).first())
