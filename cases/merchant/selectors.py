"""Reads for the merchant desk: the queue, its counts and export rows, and the shop metrics.

Every function takes the shops already resolved for the user (membership is checked once, in the
view), so a selector can never widen what a merchant sees.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Count, F, Max, Q, QuerySet, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from cases.choices import OPEN_STATES, Kind, Reason, State
from cases.models import AfterSalesCase, CaseEvent, Refund
from cases.policy import PARTY_FOR_DEADLINE
from cases.selectors import CountedRows
from portal import sqlcache
from portal.models import Order, OrderItem, Shop, User

SHANGHAI = ZoneInfo("Asia/Shanghai")
ZERO = Decimal("0.00")
CENT = Decimal("0.01")
# States in the order a service desk works through them (tabs of the queue).
QUEUE_STATES: list[str] = [s for s in State.values if s in OPEN_STATES]
SORTS: dict[str, tuple[Any, ...]] = {
    "deadline": (F("deadline_due_at").asc(nulls_last=True), "id"),
    "-deadline": (F("deadline_due_at").desc(nulls_last=True), "-id"),
    "created": ("created_at", "id"),
    "-created": ("-created_at", "-id"),
    "amount": ("amount", "id"),
    "-amount": ("-amount", "-id"),
}


# --- shops -------------------------------------------------------------------------------------

def merchant_shops(user: User) -> list[Shop]:
    """The shops the user works for; empty for anyone who is not an active merchant."""
    if not user.is_authenticated or not user.is_active or user.role != "merchant":
        return []
    return list(Shop.objects.filter(members=user).order_by("code"))


def shops_selected(user_shops: Sequence[Shop], code: str | None) -> list[Shop] | None:
    """The shops a `?shop=` value means: all of the user's when empty, one when a member, None otherwise."""
    if not code or code == "all":
        return list(user_shops)
    chosen = [s for s in user_shops if s.code == code]
    return chosen or None


# --- the queue -----------------------------------------------------------------------------------

@dataclass
class QueueFilters:
    """What the queue is narrowed by; built from the query string, every value already validated."""

    state: str = ""
    kind: str = ""
    reason: str = ""
    overdue: bool = False
    escalated: bool = False
    q: str = ""
    sort: str = "deadline"

    @classmethod
    def from_params(cls, params: Any) -> QueueFilters:
        def pick(name: str, allowed: Iterable[str]) -> str:
            value = str(params.get(name) or "").strip()
            return value if value in allowed else ""

        def flag(name: str) -> bool:
            return str(params.get(name) or "").lower() in ("1", "true", "on", "yes")

        return cls(
            state=pick("state", QUEUE_STATES),
            kind=pick("kind", Kind.values),
            reason=pick("reason", Reason.values),
            overdue=flag("overdue"),
            escalated=flag("escalated"),
            q=str(params.get("q") or "").strip()[:64],
            sort=pick("sort", SORTS) or "deadline",
        )

    def as_params(self) -> dict[str, str]:
        """The non-default filters, for links and for the export job's record."""
        params = {"state": self.state, "kind": self.kind, "reason": self.reason, "q": self.q,
                  "overdue": "1" if self.overdue else "", "escalated": "1" if self.escalated else "",
                  "sort": "" if self.sort == "deadline" else self.sort}
        return {k: v for k, v in params.items() if v}


def _filtered(shop_ids: Sequence[int], filters: QueueFilters, *, with_state: bool,
              now: datetime | None = None) -> QuerySet[AfterSalesCase]:
    qs = AfterSalesCase.objects.filter(shop_id__in=list(shop_ids), state__in=QUEUE_STATES)
    if with_state and filters.state:
        qs = qs.filter(state=filters.state)
    if filters.kind:
        qs = qs.filter(kind=filters.kind)
    if filters.reason:
        qs = qs.filter(reason=filters.reason)
    if filters.overdue:
        qs = qs.filter(Q(deadline_due_at__lt=now or timezone.now()) | Q(overdue=True))
    if filters.escalated:
        qs = qs.filter(escalated=True)
    if filters.q:
        term = filters.q
        qs = qs.filter(
            Q(number__iexact=term) | Q(number__istartswith=term) | Q(order_item__order__number__iexact=term)
            | Q(consumer__username__iexact=term)
        )
    return qs


def queue_cases(shop_ids: Sequence[int], filters: QueueFilters,
                now: datetime | None = None) -> QuerySet[AfterSalesCase]:
    """The open cases of the shops, filtered and sorted (most urgent deadline first by default)."""
    return (
        _filtered(shop_ids, filters, with_state=True, now=now)
        .select_related("order_item__order", "order_item__product", "consumer", "shop")
        .order_by(*SORTS[filters.sort])
    )


def queue_state_summary(shop_ids: Sequence[int], filters: QueueFilters,
                        now: datetime | None = None) -> list[tuple[str, int, datetime | None, datetime | None]]:
    """Per state, under every filter except the state itself: the open cases, their newest `updated_at`
    and their latest clock (one grouped query). The counts are the queue's tabs; the whole summary is the
    page's live version (cases.web.live.queue_version): every move saves the case row's `updated_at`, and
    a case that leaves the queue lowers a count. Compiled once per shape of filters (portal.sqlcache)."""
    key, args = _filter_shape(shop_ids, filters, now)

    def build(**values: Any) -> QuerySet:
        shops, chosen, moment = _from_shape(filters, values)
        return (_filtered(shops, chosen, with_state=False, now=moment)
                .order_by().values("state").annotate(n=Count("*"), last=Max("updated_at"), due=Max("deadline_due_at"))
                .values("state", "n", "last", "due"))

    rows = sqlcache.rows(("queue_summary", key), build, **args)
    return sorted((row["state"], row["n"], row["last"], row["due"]) for row in rows)


def _filter_shape(shop_ids: Sequence[int], filters: QueueFilters, now: datetime | None
                  ) -> tuple[Hashable, dict[str, Any]]:
    """The queue's filters as a compiled read's key (which filters are on, the sort) and its arguments
    (their values, the shops, the time the overdue filter compares with)."""
    args: dict[str, Any] = {"shop_ids": list(shop_ids)}
    for name in ("state", "kind", "reason", "q"):
        if getattr(filters, name):
            args[name] = getattr(filters, name)
    if filters.overdue:
        args["now"] = now or timezone.now()
    key = (tuple(sorted(args)), filters.overdue, filters.escalated, filters.sort)
    return key, args


def _from_shape(filters: QueueFilters, values: dict[str, Any]) -> tuple[list[int], QueueFilters, datetime | None]:
    chosen = QueueFilters(state=values.get("state", ""), kind=values.get("kind", ""),
                          reason=values.get("reason", ""), overdue=filters.overdue, escalated=filters.escalated,
                          q=values.get("q", ""), sort=filters.sort)
    return values["shop_ids"], chosen, values.get("now")


def queue_page_source(shop_ids: Sequence[int], filters: QueueFilters, now: datetime | None = None) -> CountedRows:
    """`queue_cases` as the paginator's object list, its pages read by statements compiled once per shape
    of filters (portal.sqlcache); the same statements, the same cases."""
    key, args = _filter_shape(shop_ids, filters, now)

    def build(**values: Any) -> tuple[QuerySet, QuerySet]:
        shops, chosen, moment = _from_shape(filters, values)
        cases = queue_cases(shops, chosen, now=moment)
        return cases, cases

    return CountedRows.compiled(("queue_page", key), build, args, instances=True)


def queue_state_counts(shop_ids: Sequence[int], filters: QueueFilters,
                       now: datetime | None = None) -> dict[str, int]:
    """Open cases per state under every filter except the state itself (one grouped query)."""
    return state_counts(queue_state_summary(shop_ids, filters, now=now))


def state_counts(summary: list[tuple[str, int, datetime | None, datetime | None]]) -> dict[str, int]:
    counts = {state: 0 for state in QUEUE_STATES}
    for state, n, _last, _due in summary:
        counts[state] = n
    return counts


def urgency(due_at: datetime | None, now: datetime) -> str:
    """`red` under 6 h (or overdue), `amber` under 24 h, else `ok`; `none` without a clock."""
    if due_at is None:
        return "none"
    left = due_at - now
    if left < timedelta(hours=6):
        return "red"
    if left < timedelta(hours=24):
        return "amber"
    return "ok"


def party_for(deadline_name: str) -> str:
    return PARTY_FOR_DEADLINE.get(deadline_name, "") if deadline_name else ""


EXPORT_COLUMNS = ["number", "order_number", "sku", "product", "kind", "reason", "state", "amount",
                  "deadline_name", "deadline_due_at", "must_act", "consumer", "created_at", "shop"]


def export_rows(shop_ids: Sequence[int], filters: QueueFilters, now: datetime | None = None,
                chunk_size: int = 2000) -> Iterator[list[str]]:
    """The queue as flat rows (codes, not labels, so spreadsheets can filter on them); streams in chunks."""
    qs = queue_cases(shop_ids, filters, now=now).values_list(
        "number", "order_item__order__number", "order_item__product__sku", "order_item__product__name",
        "kind", "reason", "state", "amount", "deadline_name", "deadline_due_at", "consumer__username",
        "created_at", "shop__code",
    )
    for (number, order_number, sku, product, kind, reason, state, amount, dname, due, consumer, created,
         shop_code) in qs.iterator(chunk_size=chunk_size):
        yield [number, order_number, sku, product, kind, reason, state, f"{amount:.2f}", dname or "",
               due.astimezone(SHANGHAI).isoformat(timespec="seconds") if due else "", party_for(dname),
               consumer, created.astimezone(SHANGHAI).isoformat(timespec="seconds"), shop_code]


# --- metrics ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Period:
    """Whole days in Asia/Shanghai, both ends included."""

    start: date
    end: date

    @property
    def bounds(self) -> tuple[datetime, datetime]:
        return (datetime.combine(self.start, time.min, tzinfo=SHANGHAI),
                datetime.combine(self.end + timedelta(days=1), time.min, tzinfo=SHANGHAI))

    @property
    def days(self) -> list[date]:
        return [self.start + timedelta(days=i) for i in range((self.end - self.start).days + 1)]


def median(values: Sequence[float]) -> float | None:
    """The middle value of the sorted values; for an even count, the mean of the two middle ones."""
    if not values:
        return None
    ordered = sorted(values)
    n = len(ordered)
    mid = n // 2
    return float(ordered[mid]) if n % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def percentile_nearest_rank(values: Sequence[float], pct: float) -> float | None:
    """Nearest-rank percentile: the value at 1-based rank ceil(pct/100 × n) of the sorted values.

    It is always one of the observed values (no interpolation): p90 of 10 values is the 9th, of 11 the 10th.
    """
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return float(ordered[rank - 1])


def ratio(numerator: Decimal | int, denominator: Decimal | int) -> Decimal | None:
    """A share rounded to 4 places (None when there is nothing to divide by)."""
    if not denominator:
        return None
    return (Decimal(numerator) / Decimal(denominator)).quantize(Decimal("0.0001"))


@dataclass
class ShopMetrics:
    shop: Shop
    period: Period
    cases: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)
    by_reason: dict[str, int] = field(default_factory=dict)
    responded: int = 0
    response_median_s: float | None = None
    response_p90_s: float | None = None
    auto_approved: int = 0
    auto_approved_share: Decimal | None = None
    orders: int = 0
    paid_amount: Decimal = ZERO
    refund_amount: Decimal = ZERO
    refund_rate: Decimal | None = None
    escalated: int = 0
    rulings: int = 0
    rulings_against: int = 0
    rulings_against_share: Decimal | None = None
    cases_per_day: list[tuple[date, int]] = field(default_factory=list)
    refunds_per_day: list[tuple[date, Decimal]] = field(default_factory=list)


def _money(value: Decimal | None) -> Decimal:
    return Decimal(value or 0).quantize(CENT)


def shop_metrics(shop: Shop, period: Period) -> ShopMetrics:
    """One shop's after-sales figures for a period (definitions also shown on the page, 指标口径).

    - cases, by kind/reason, auto-approved, escalated: cases *opened* in the period;
    - first response: `first_response_at − created_at` of those cases that have one;
    - orders, paid amount, refund amount and rate: orders *paid* in the period, and the refunds on them;
    - rulings: `rule` events *at* a time in the period on the shop's cases.
    """
    lo, hi = period.bounds
    m = ShopMetrics(shop=shop, period=period)
    cases = AfterSalesCase.objects.filter(shop=shop, created_at__gte=lo, created_at__lt=hi)

    totals = cases.aggregate(
        n=Count("id"),
        auto=Count("id", filter=Q(auto_approved=True)),
        esc=Count("id", filter=Q(escalated=True)),
    )
    m.cases, m.auto_approved, m.escalated = totals["n"], totals["auto"], totals["esc"]
    for row in cases.order_by().values("kind").annotate(n=Count("id")):
        m.by_kind[row["kind"]] = row["n"]
    for row in cases.order_by().values("reason").annotate(n=Count("id")):
        m.by_reason[row["reason"]] = row["n"]
    m.by_kind = {k: m.by_kind.get(k, 0) for k in Kind.values}
    m.by_reason = {r: m.by_reason[r] for r in Reason.values if m.by_reason.get(r)}

    waits = [
        (responded - created).total_seconds()
        for created, responded in cases.filter(first_response_at__isnull=False)
        .values_list("created_at", "first_response_at")
    ]
    m.responded = len(waits)
    m.response_median_s = median(waits)
    m.response_p90_s = percentile_nearest_rank(waits, 90)
    m.auto_approved_share = ratio(m.auto_approved, m.cases)

    orders = Order.objects.filter(shop=shop, paid_at__gte=lo, paid_at__lt=hi)
    m.orders = orders.count()
    m.paid_amount = _money(OrderItem.objects.filter(order__in=orders).aggregate(s=Sum("paid"))["s"])
    m.refund_amount = _money(
        Refund.objects.filter(case__shop=shop, case__order_item__order__paid_at__gte=lo,
                              case__order_item__order__paid_at__lt=hi)
        .aggregate(s=Sum("amount"))["s"]
    )
    m.refund_rate = ratio(m.refund_amount, m.paid_amount)

    rulings = CaseEvent.objects.filter(case__shop=shop, action="rule", at__gte=lo, at__lt=hi).aggregate(
        n=Count("id"), against=Count("id", filter=Q(payload__decision="refund"))
    )
    m.rulings, m.rulings_against = rulings["n"], rulings["against"]
    m.rulings_against_share = ratio(m.rulings_against, m.rulings)

    per_day = dict(
        cases.annotate(day=TruncDate("created_at", tzinfo=SHANGHAI)).order_by()
        .values("day").annotate(n=Count("id")).values_list("day", "n")
    )
    m.cases_per_day = [(d, per_day.get(d, 0)) for d in period.days]
    refund_day = dict(
        Refund.objects.filter(case__shop=shop, created_at__gte=lo, created_at__lt=hi)
        .annotate(day=TruncDate("created_at", tzinfo=SHANGHAI)).order_by()
        .values("day").annotate(s=Sum("amount")).values_list("day", "s")
    )
    m.refunds_per_day = [(d, _money(refund_day.get(d))) for d in period.days]
    return m
