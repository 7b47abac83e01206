"""The shop's "don't ship" notice (停止发货, docs/shop-notices.md): a `refund_only` case with reason `not_shipped`
that reaches `refunded` (the merchant's or the system's `approve`, a ruling) tells the shop's system not to ship
the order item.

The notice is a `ShopNotice` row written in the transaction of the move (one per case and kind, so a second
move into `refunded` adds nothing) with a `shop_notice` event on the case's timeline. After commit a task POSTs
it to `Shop.notify_url`, signed like the courier calls (`portal.signing`: X-Timestamp, X-Signature = HMAC-SHA256
of "{timestamp}." + body with `Shop.notify_secret`) and carrying `Idempotency-Key`, so the shop applies a
repeat once. A 2xx answer marks it delivered (event `shop_notice_delivered`); anything else is retried by the
task and, when that message is lost, re-sent by the outbox sweep (`portal.outbox`) within its window.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta
from typing import Any

import requests
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from portal.signing import signed_headers

from . import effects
from .choices import ActorRole, Kind, Reason, State
from .events import SHOP_NOTICE, SHOP_NOTICE_DELIVERED, event_append
from .models import AfterSalesCase, CaseEvent, ShopNotice

log = logging.getLogger(__name__)

DO_NOT_SHIP = "do_not_ship"
TIMEOUT_SECONDS = 10


class ShopUnavailable(Exception):
    """The shop's endpoint did not answer 2xx (or not at all): try again later."""


def shop_notices_for_cases(case_ids: list[int], now: datetime) -> None:
    """Registered for cases entering `refunded`: a `not_shipped` refund-only case gets its "don't ship" notice
    (once), an event on its timeline, and the notice is sent after commit."""
    cases = list(AfterSalesCase.objects.filter(pk__in=case_ids, kind=Kind.REFUND_ONLY, reason=Reason.NOT_SHIPPED)
                 .exclude(shop_notices__kind=DO_NOT_SHIP)
                 .select_related("shop", "order_item__order", "order_item__product"))
    if not cases:
        return
    notices = ShopNotice.objects.bulk_create([
        ShopNotice(case=c, shop_id=c.shop_id, kind=DO_NOT_SHIP, idempotency_key=f"{DO_NOT_SHIP}-{c.number}",
                   payload=_payload(c, now), created_at=now) for c in cases], ignore_conflicts=True)
    CaseEvent.objects.bulk_create([
        CaseEvent(case=c, at=now, actor=None, actor_username=None, role=ActorRole.SYSTEM, action=SHOP_NOTICE,
                  from_state=State.REFUNDED, to_state=State.REFUNDED,
                  payload={"kind": DO_NOT_SHIP, "idempotency_key": f"{DO_NOT_SHIP}-{c.number}"})
        for c in cases])
    keys = [n.idempotency_key for n in notices]

    def enqueue() -> None:
        for notice_id in ShopNotice.objects.filter(idempotency_key__in=keys).values_list("pk", flat=True):
            effects.shop_notice_enqueue(notice_id)

    transaction.on_commit(enqueue, robust=True)  # broker down: the outbox sweep sends it


def _payload(case: AfterSalesCase, now: datetime) -> dict[str, Any]:
    item = case.order_item
    return {"event": DO_NOT_SHIP, "idempotency_key": f"{DO_NOT_SHIP}-{case.number}", "case": case.number,
            "shop": case.shop.code, "order": item.order.number,
            "sku": item.product.sku, "quantity": case.quantity, "at": now.isoformat()}


def shop_notice_send(*, notice_id: int, now: datetime | None = None) -> bool:
    """POST the notice (no transaction is held over the call). True when the shop acknowledged it (now or
    before); False when there is nowhere to send it; ShopUnavailable when it should be tried again."""
    notice = ShopNotice.objects.select_related("shop", "case").filter(pk=notice_id).first()
    if notice is None or notice.delivered_at is not None:
        return notice is not None
    shop = notice.shop
    if not shop.notify_url or not shop.notify_secret:
        ShopNotice.objects.filter(pk=notice.pk).update(last_error="no_endpoint")
        return False
    body = json.dumps(notice.payload, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()
    headers = {**signed_headers(shop.notify_secret, body), "Idempotency-Key": notice.idempotency_key}
    now = now or timezone.now()
    error = ""
    try:
        response = requests.post(shop.notify_url, data=body, headers=headers, timeout=TIMEOUT_SECONDS)
        if not 200 <= response.status_code < 300:
            error = f"HTTP {response.status_code}"
    except requests.RequestException as exc:
        error = exc.__class__.__name__
    if error:
        ShopNotice.objects.filter(pk=notice.pk).update(attempts=notice.attempts + 1, last_attempt_at=now,
                                                       last_error=error[:255])
        raise ShopUnavailable(error)
    with transaction.atomic():
        marked = ShopNotice.objects.filter(pk=notice.pk, delivered_at__isnull=True).update(
            attempts=notice.attempts + 1, last_attempt_at=now, last_error="", delivered_at=now)
        if marked:
            event_append(case=notice.case, actor=None, role=ActorRole.SYSTEM, action=SHOP_NOTICE_DELIVERED,
                         from_state=notice.case.state, to_state=notice.case.state, at=now,
                         payload={"kind": notice.kind, "idempotency_key": notice.idempotency_key})
    return True


def shop_notices_resend(*, now: datetime) -> int:
    """Outbox: queue again notices not yet delivered to a shop that has an endpoint, caused more than
    OUTBOX_RESEND_AFTER_SECONDS and less than OUTBOX_RESEND_WINDOW_SECONDS ago."""
    owed = list(ShopNotice.objects.filter(
        delivered_at__isnull=True,
        created_at__lte=now - timedelta(seconds=settings.OUTBOX_RESEND_AFTER_SECONDS),
        created_at__gte=now - timedelta(seconds=settings.OUTBOX_RESEND_WINDOW_SECONDS),
    ).exclude(shop__notify_url="").exclude(shop__notify_secret="").values_list("pk", flat=True)[:500])
    for notice_id in owed:
        effects.shop_notice_enqueue(notice_id, robust=False)
    return len(owed)
