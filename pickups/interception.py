"""The courier side of interception (docs/interception.md): ask the order's courier to stop the parcel, and
apply its answer (the gateway's reply, or a signed webhook event) to the case through the case services."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import F
from django.utils import timezone

from cases.choices import State
from cases.models import AfterSalesCase
from cases.services.interception import INTERCEPT_FAILED, INTERCEPTED, case_intercept_result
from portal.errors import DomainError
from portal.outbox import Message, outbox_put_many

from . import effects
from .couriers import gateway_for
from .models import Courier, InterceptionRequest

log = logging.getLogger(__name__)
RESULTS = (INTERCEPTED, INTERCEPT_FAILED)


def interceptions_request_later(case_ids: list[int], now: datetime) -> None:
    """Registered for cases entering `intercepting`: the request is recorded in the move's transaction (an
    `InterceptionRequest`, re-sent by the outbox sweep until the courier answers) and a task per case asks the
    courier, owed through the outbox (portal.outbox: written with the move, published after commit)."""
    rows = (AfterSalesCase.objects.filter(pk__in=case_ids)
            .values_list("pk", "shop_id", "order_item__order__carrier", "order_item__order__waybill"))
    InterceptionRequest.objects.bulk_create([
        InterceptionRequest(case_id=pk, shop_id=shop_id, carrier=carrier or "", waybill=waybill or "",
                            created_at=now) for pk, shop_id, carrier, waybill in rows])
    outbox_put_many(Message(task="pickups.tasks.request_interception", args=[case_id]) for case_id in case_ids)


def interception_request(*, case_id: int) -> str | None:
    """Ask the courier (no transaction is held over the call); apply a final answer."""
    case = AfterSalesCase.objects.select_related("order_item__order").filter(pk=case_id).first()
    if case is None or case.state != State.INTERCEPTING:
        return None
    order = case.order_item.order
    courier = Courier.objects.filter(code=order.carrier).first()
    if courier is None or not order.waybill:
        _acknowledged(case_id, "unknown_courier")
        interception_apply(case_id=case_id, status=INTERCEPT_FAILED, reason="unknown_courier")
        return INTERCEPT_FAILED
    InterceptionRequest.objects.filter(case_id=case_id, acknowledged_at__isnull=True).update(
        attempts=F("attempts") + 1, last_attempt_at=timezone.now())
    answer = gateway_for(courier).intercept(order.waybill)
    _acknowledged(case_id, answer.status)
    if answer.status in RESULTS:
        interception_apply(case_id=case_id, status=answer.status, reason=answer.reason)
    return answer.status


def _acknowledged(case_id: int, answer: str) -> None:
    """The courier answered (a result, or `requested`: the result follows by webhook): nothing is owed."""
    InterceptionRequest.objects.filter(case_id=case_id, acknowledged_at__isnull=True).update(
        acknowledged_at=timezone.now(), answer=answer[:32])


def interception_requests_resend(*, now: datetime) -> int:
    """Outbox: ask the courier again for cases still `intercepting` whose request it never answered (the task
    was lost with the broker, or every retry failed), recorded more than OUTBOX_RESEND_AFTER_SECONDS ago."""
    owed = list(InterceptionRequest.objects.filter(
        acknowledged_at__isnull=True, case__state=State.INTERCEPTING,
        created_at__lte=now - timedelta(seconds=settings.OUTBOX_RESEND_AFTER_SECONDS),
        created_at__gte=now - timedelta(seconds=settings.OUTBOX_RESEND_WINDOW_SECONDS),
    ).values_list("case_id", flat=True).distinct()[:500])
    for case_id in owed:
        effects.interception_enqueue(case_id)  # idempotent: the case's state is re-checked, the courier dedupes
    return len(owed)


def interception_apply(*, case_id: int, status: str, reason: str = "") -> bool:
    """Apply a courier result to the case; answers whether it moved (a case no longer intercepting: no)."""
    _acknowledged(case_id, status)
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
