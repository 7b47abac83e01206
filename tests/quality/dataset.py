"""A fixed data set for the scorecard, with every figure worked by hand in tests/quality/test_scorecard.py.

Rows are written directly (the scorecard only reads them): cases at given states and times, their events,
merchant messages, refunds with their payment times, ratings. NOW is 2026-12-02 12:00 Asia/Shanghai, so the
window is [2026-11-02 12:00, 2026-12-02 12:00) +08:00.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from itertools import count
from zoneinfo import ZoneInfo

from django.db.models import Q

from cases.models import AfterSalesCase, CaseEvent, CaseMessage, Refund
from cases.quality.models import CaseRating
from portal.models import Shop, User
from tests import factories as f

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 12, 2, 12, 0, tzinfo=SH)
_n = count(1)


def at(month: int, day: int, hour: int = 0) -> datetime:
    return datetime(2026, month, day, hour, 0, tzinfo=SH)


def items(shop: Shop, consumer: User, paid_at: datetime, n: int) -> list:
    order = f.OrderFactory(consumer=consumer, shop=shop, paid_at=paid_at, shipped_at=paid_at, signed_at=paid_at)
    product = shop.products.order_by("pk").first()
    return [f.OrderItemFactory(order=order, product=product) for _ in range(n)]


def case(shop: Shop, consumer: User, item, *, created: datetime, reason: str, state: str,  # type: ignore[no-untyped-def]
         closed: datetime | None = None, escalated: bool = False, kind: str = "refund_only",
         closure_reason: str | None = None) -> AfterSalesCase:
    c = AfterSalesCase.objects.create(
        number=f"ASQ{next(_n):06d}", order_item=item, consumer=consumer, shop=shop, kind=kind, reason=reason,
        state=state, closure_reason=closure_reason, amount=Decimal("10.00"), created_at=created, closed_at=closed,
        escalated=escalated)
    CaseEvent.objects.create(case=c, at=created, role="consumer", actor_username=consumer.username,
                             action="submit", from_state=None, to_state="pending_merchant")
    return c


def event(c: AfterSalesCase, when: datetime, action: str, role: str, to_state: str, **payload: object) -> None:
    CaseEvent.objects.create(case=c, at=when, role=role, action=action, from_state="x", to_state=to_state,
                             payload=payload)
    if role == "merchant":  # as the services do on the merchant's first action (cases/services/base.py)
        AfterSalesCase.objects.filter(pk=c.pk).filter(
            Q(first_response_at__isnull=True) | Q(first_response_at__gt=when)).update(first_response_at=when)


def refund(c: AfterSalesCase, paid: datetime) -> None:
    Refund.objects.create(case=c, amount=Decimal("10.00"), status="succeeded", idempotency_key=f"refund-{c.number}",
                          paid_at=paid, created_at=paid)


def rate(c: AfterSalesCase, stars: int, when: datetime) -> None:
    CaseRating.objects.create(case=c, shop=c.shop, consumer=c.consumer, stars=stars, created_at=when)


def build() -> dict[str, object]:
    merchant = f.MerchantFactory(username="bob")
    consumer = f.ConsumerFactory(username="alice")
    acme = f.ShopFactory(code="acme", members=[merchant])
    peer = f.ShopFactory(code="peer")
    elec = f.ShopFactory(code="elec")
    for shop, cats in ((acme, ["apparel", "apparel", "electronics"]), (peer, ["apparel"]),
                       (elec, ["electronics", "electronics", "apparel"])):
        for cat in cats:
            f.ProductFactory(shop=shop, category=cat)

    # acme: 2 + 3 + 5 = 10 items paid in the window; 3 paid before it
    acme_items = items(acme, consumer, at(11, 10), 2) + items(acme, consumer, at(11, 20), 3)
    acme_items += items(acme, consumer, at(12, 1), 5)
    old = items(acme, consumer, at(10, 20), 3)

    c1 = case(acme, consumer, acme_items[0], created=at(11, 5, 10), reason="quality_issue", state="refunded",
              closed=at(11, 5, 12))
    event(c1, at(11, 5, 12), "approve", "merchant", "refunded")
    refund(c1, at(11, 5, 14))
    rate(c1, 5, at(11, 6))

    c2 = case(acme, consumer, acme_items[1], created=at(11, 10, 9), reason="not_as_described", state="refunded",
              closed=at(11, 15, 9), escalated=True)
    CaseMessage.objects.create(case=c2, author=merchant, role="merchant", body="您好", created_at=at(11, 10, 15))
    event(c2, at(11, 10, 21), "reject", "merchant", "rejected")
    event(c2, at(11, 12, 9), "escalate", "consumer", "in_arbitration")
    event(c2, at(11, 15, 9), "rule", "staff", "refunded", decision="refund")
    refund(c2, at(11, 15, 19))
    rate(c2, 4, at(11, 16))

    c3 = case(acme, consumer, acme_items[2], created=at(11, 20, 8), reason="other", state="pending_merchant")
    event(c3, at(11, 20, 9), "approve", "system", "refunded")  # the system's move: not a response

    c4 = case(acme, consumer, old[0], created=at(10, 25, 10), reason="wrong_item", state="refunded",
              closed=at(11, 25, 10), escalated=True)
    event(c4, at(11, 3, 10), "intervene", "staff", "in_arbitration")
    event(c4, at(11, 25, 10), "rule", "staff", "refunded", decision="refund")
    refund(c4, at(11, 25, 11))

    c5 = case(acme, consumer, acme_items[3], created=at(11, 28, 10), reason="no_reason", state="closed",
              closed=at(11, 30, 10), kind="return_refund", closure_reason="withdrawn")
    event(c5, at(11, 28, 11), "approve", "merchant", "awaiting_return")
    rate(c5, 2, at(11, 30, 12))

    c6 = case(acme, consumer, old[1], created=at(10, 1, 10), reason="quality_issue", state="refunded",
              closed=at(10, 5, 10), escalated=True)
    event(c6, at(10, 4, 10), "rule", "staff", "refunded", decision="refund")
    refund(c6, at(10, 5, 10))
    rate(c6, 3, at(10, 6))

    c7 = case(acme, consumer, old[2], created=at(11, 6, 10), reason="other", state="closed",
              closed=at(11, 8, 10), escalated=True, closure_reason="ruled_for_merchant")
    event(c7, at(11, 7, 10), "escalate", "consumer", "in_arbitration")
    event(c7, at(11, 8, 10), "rule", "staff", "closed", decision="reject")

    # peer (apparel): 5 items; one dispute ruled for the consumer
    peer_items = items(peer, consumer, at(11, 12), 5)
    p1 = case(peer, consumer, peer_items[0], created=at(11, 15, 10), reason="quality_issue", state="refunded",
              closed=at(11, 18, 10), escalated=True)
    event(p1, at(11, 15, 14), "reject", "merchant", "rejected")
    event(p1, at(11, 16, 10), "escalate", "consumer", "in_arbitration")
    event(p1, at(11, 18, 10), "rule", "staff", "refunded", decision="refund")
    refund(p1, at(11, 18, 12))

    # elec (electronics, not in acme's category): 7 items, one ruling for the consumer
    elec_items = items(elec, consumer, at(11, 12), 7)
    e1 = case(elec, consumer, elec_items[0], created=at(11, 15, 10), reason="quality_issue", state="refunded",
              closed=at(11, 18, 10), escalated=True)
    event(e1, at(11, 18, 10), "rule", "staff", "refunded", decision="refund")
    refund(e1, at(11, 18, 12))
    return {"acme": acme, "peer": peer, "elec": elec, "merchant": merchant, "consumer": consumer}
