"""A buyer's record over the last 90 days (docs/quality.md "Buyer trust"): what the fast-refund quota and the
serial-returner flag are derived from. Reads only; the flag is written by cases/quality/consequences.py."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from django.db.models import Count, Exists, OuterRef, Q

from portal.models import Order

from ..choices import Action, ClosureReason
from ..models import AfterSalesCase, CaseEvent, Refund
from ..scorecard import rate

BUYER_WINDOW = timedelta(days=90)
# lifecycle.md "Consequences need volume": a consumer is flagged only with at least this many orders in 90 days.
MIN_ORDERS = 10


@dataclass
class BuyerRecord:
    orders: int = 0  # orders paid in the 90 days
    refunded_orders: int = 0  # of those, orders with a refund on any of their items
    refused: int = 0  # returns refused on receipt (refuse_receipt events in the 90 days)
    lost: int = 0  # disputes lost (cases closed ruled_for_merchant in the 90 days)
    cases: list[str] = field(default_factory=list)  # the refunded cases' numbers (evidence)

    @property
    def refund_rate(self) -> Decimal | None:
        return rate(self.refunded_orders, self.orders)

    @property
    def blemishes(self) -> int:
        return self.refused + self.lost

    def evidence(self) -> dict[str, object]:
        rr = self.refund_rate
        return {"orders": self.orders, "refunded_orders": self.refunded_orders,
                "refund_rate": None if rr is None else str(rr), "refused_on_receipt": self.refused,
                "disputes_lost": self.lost, "cases": self.cases[:20]}


def buyer_records(consumer_ids: Iterable[int] | None, *, now: datetime) -> dict[int, BuyerRecord]:
    """Each consumer's record over [now − 90 days, now] (None: every consumer with an order in the window)."""
    since = now - BUYER_WINDOW
    ids = None if consumer_ids is None else list(consumer_ids)
    out: dict[int, BuyerRecord] = {}

    def record(cid: int) -> BuyerRecord:
        return out.setdefault(cid, BuyerRecord())

    orders = Order.objects.filter(paid_at__gte=since, paid_at__lte=now)
    if ids is not None:
        orders = orders.filter(consumer_id__in=ids)
    refunded = Refund.objects.filter(case__order_item__order_id=OuterRef("pk"))
    for cid, n, with_refund in orders.order_by().values_list("consumer_id").annotate(
            n=Count("id"), r=Count("id", filter=Q(Exists(refunded)))):
        record(cid).orders, record(cid).refunded_orders = n, with_refund
    cases = AfterSalesCase.objects.all() if ids is None else AfterSalesCase.objects.filter(consumer_id__in=ids)
    for cid, number in cases.filter(order_item__order__paid_at__gte=since, order_item__order__paid_at__lte=now,
                                    refund__isnull=False).order_by("-created_at").values_list(
            "consumer_id", "number"):
        record(cid).cases.append(number)
    events = CaseEvent.objects.filter(action=Action.REFUSE_RECEIPT, at__gte=since, at__lte=now)
    if ids is not None:
        events = events.filter(case__consumer_id__in=ids)
    for cid, n in events.order_by().values_list("case__consumer_id").annotate(n=Count("id")):
        record(cid).refused = n
    for cid, n in cases.filter(closure_reason=ClosureReason.RULED_FOR_MERCHANT, closed_at__gte=since,
                               closed_at__lte=now).order_by().values_list("consumer_id").annotate(n=Count("id")):
        record(cid).lost = n
    return out


def buyer_record(consumer_id: int, *, now: datetime) -> BuyerRecord:
    return buyer_records([consumer_id], now=now).get(consumer_id, BuyerRecord())


def quota_multiplier(record: BuyerRecord, *, trusted_refund_rate: Decimal) -> int:
    """How many fast-refund limits a buyer may have outstanding (lifecycle.md: ≥ 3 for a clean record):
    5 for a clean record with ≥ 10 orders and a refund rate ≤ the trusted rate, 3 for any other clean record,
    1 with one return refused or dispute lost, 0 with two or more."""
    if record.blemishes >= 2:
        return 0
    if record.blemishes == 1:
        return 1
    rr = record.refund_rate
    if record.orders >= MIN_ORDERS and rr is not None and rr <= trusted_refund_rate:
        return 5
    return 3
