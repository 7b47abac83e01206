"""The shop scorecard: ONE definition of every service-quality figure (api.md "Scorecard definitions";
docs/quality.md). The API, the merchant metrics page, the staff dashboard and the consequences all read it.

Every figure is counted per shop by grouped aggregates over the same window, so one shop, a category's pool
of shops and the whole platform take the same few queries and always agree.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.core.cache import cache
from django.db.models import Count, Min, OuterRef, Q, Subquery, Sum
from django.utils import timezone

from portal.models import OrderItem, Product, Shop

from .choices import QUALITY_REASONS, Action, ActorRole
from .models import AfterSalesCase, CaseEvent, CaseMessage, Refund
from .policy import SHANGHAI
from .quality.models import CaseRating

WINDOW = timedelta(days=30)
RATE_PLACES = Decimal("0.0001")
HOUR_PLACES = Decimal("0.1")
STAR_PLACES = Decimal("0.01")
# lifecycle.md "Consequences need volume": a shop is held to a threshold only with this many items paid.
MIN_ORDER_ITEMS = 100


@dataclass
class Counts:
    """The raw numerators and denominators of one shop (or a pool of shops) over one window."""

    items_paid: int = 0
    ruled_refund: int = 0
    intervened: int = 0
    opened: int = 0
    quality_refunds: int = 0
    refund_seconds: list[float] = field(default_factory=list)
    response_seconds: list[float] = field(default_factory=list)
    terminal: int = 0
    self_resolved: int = 0
    ratings: int = 0
    stars: int = 0

    def add(self, other: Counts) -> None:
        for name in ("items_paid", "ruled_refund", "intervened", "opened", "quality_refunds", "terminal",
                     "self_resolved", "ratings", "stars"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.refund_seconds.extend(other.refund_seconds)
        self.response_seconds.extend(other.response_seconds)

    # --- the figures (api.md): rates with 4 places, hours with 1, null for an empty denominator ----------
    @property
    def dispute_rate(self) -> Decimal | None:
        return rate(self.ruled_refund, self.items_paid)

    @property
    def intervention_rate(self) -> Decimal | None:
        return rate(self.intervened, self.opened)

    @property
    def quality_refund_rate(self) -> Decimal | None:
        return rate(self.quality_refunds, self.items_paid)

    @property
    def refund_hours_mean(self) -> Decimal | None:
        return mean_hours(self.refund_seconds)

    @property
    def refund_hours_p90(self) -> Decimal | None:
        return p90_hours(self.refund_seconds)

    @property
    def first_response_hours(self) -> Decimal | None:
        return mean_hours(self.response_seconds)

    @property
    def self_resolved_rate(self) -> Decimal | None:
        return rate(self.self_resolved, self.terminal)

    @property
    def rating_mean(self) -> Decimal | None:
        if not self.ratings:
            return None
        return (Decimal(self.stars) / Decimal(self.ratings)).quantize(STAR_PLACES, ROUND_HALF_UP)

    @property
    def held_to_thresholds(self) -> bool:
        return self.items_paid >= MIN_ORDER_ITEMS

    def figures(self) -> dict[str, Any]:
        """The rate and hour keys of api.md, as decimal strings (or null)."""
        return {
            "dispute_rate": _s(self.dispute_rate),
            "intervention_rate": _s(self.intervention_rate),
            "quality_refund_rate": _s(self.quality_refund_rate),
            "refund_hours": {"mean": _s(self.refund_hours_mean), "p90": _s(self.refund_hours_p90)},
            "first_response_hours": _s(self.first_response_hours),
            "self_resolved_rate": _s(self.self_resolved_rate),
        }


def _s(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def rate(numerator: int, denominator: int) -> Decimal | None:
    """numerator ÷ denominator, half-up to 4 places, at most 1 (api.md: rates lie in [0, 1]); None for 0."""
    if not denominator:
        return None
    return min(Decimal(numerator) / Decimal(denominator), Decimal(1)).quantize(RATE_PLACES, ROUND_HALF_UP)


def mean_hours(seconds: list[float]) -> Decimal | None:
    if not seconds:
        return None
    return (Decimal(str(sum(seconds))) / len(seconds) / 3600).quantize(HOUR_PLACES, ROUND_HALF_UP)


def p90_hours(seconds: list[float]) -> Decimal | None:
    """Nearest rank: the value at 1-based rank ⌈0.9 × n⌉ of the sorted durations (always an observed one)."""
    if not seconds:
        return None
    ordered = sorted(seconds)
    value = ordered[max(1, math.ceil(Decimal("0.9") * len(ordered))) - 1]
    return (Decimal(str(value)) / 3600).quantize(HOUR_PLACES, ROUND_HALF_UP)


def window(now: datetime | None = None) -> tuple[datetime, datetime]:
    """The rolling 30 days ending now: [now − 30 × 24 h, now), shown in Asia/Shanghai."""
    hi = timezone.localtime(now or timezone.now(), SHANGHAI)
    return hi - WINDOW, hi


def counts_by_shop(shop_ids: Iterable[int] | None, lo: datetime, hi: datetime) -> dict[int, Counts]:
    """Every figure's numerator and denominator per shop over [lo, hi) (None: every shop)."""
    ids = None if shop_ids is None else list(shop_ids)
    out: dict[int, Counts] = defaultdict(Counts)

    def shops(qs: Any, path: str) -> Any:
        return qs if ids is None else qs.filter(**{f"{path}__in": ids})

    # order items paid in the window (rows of the order, whatever their quantity)
    for shop_id, n in shops(OrderItem.objects.filter(order__paid_at__gte=lo, order__paid_at__lt=hi),
                            "order__shop_id").order_by().values_list("order__shop_id").annotate(n=Count("id")):
        out[shop_id].items_paid = n
    # cases ruled `refund` / escalated or intervened in the window (each case once)
    events = shops(CaseEvent.objects.filter(at__gte=lo, at__lt=hi), "case__shop_id").order_by()
    for shop_id, ruled, intervened in events.filter(
            Q(action=Action.RULE, payload__decision="refund") | Q(action__in=[Action.ESCALATE, Action.INTERVENE])
    ).values_list("case__shop_id").annotate(
            ruled=Count("case_id", distinct=True, filter=Q(action=Action.RULE)),
            intervened=Count("case_id", distinct=True, filter=Q(action__in=[Action.ESCALATE, Action.INTERVENE]))):
        out[shop_id].ruled_refund, out[shop_id].intervened = ruled, intervened
    # cases opened / became terminal (with and without the platform) in the window (two index ranges)
    in_window = Q(created_at__gte=lo, created_at__lt=hi)
    closed = Q(closed_at__gte=lo, closed_at__lt=hi)
    for shop_id, opened in shops(AfterSalesCase.objects.filter(in_window), "shop_id").order_by() \
            .values_list("shop_id").annotate(n=Count("id")):
        out[shop_id].opened = opened
    for shop_id, terminal, alone in shops(AfterSalesCase.objects.filter(closed), "shop_id").order_by() \
            .values_list("shop_id").annotate(n=Count("id"), alone=Count("id", filter=Q(escalated=False))):
        out[shop_id].terminal, out[shop_id].self_resolved = terminal, alone
    # refunds paid in the window: how many on a quality reason, and submission → paid
    for shop_id, created, paid, reason in shops(Refund.objects.filter(paid_at__gte=lo, paid_at__lt=hi),
                                                "case__shop_id").values_list(
            "case__shop_id", "case__created_at", "paid_at", "case__reason"):
        counts = out[shop_id]
        counts.refund_seconds.append((paid - created).total_seconds())
        if reason in QUALITY_REASONS:
            counts.quality_refunds += 1
    # first response: the merchant's first action (an event in the merchant's role) or message
    first_event = CaseEvent.objects.filter(case_id=OuterRef("pk"), role=ActorRole.MERCHANT).order_by() \
        .values("case_id").annotate(m=Min("at")).values("m")
    first_message = CaseMessage.objects.filter(case_id=OuterRef("pk"), role=ActorRole.MERCHANT).order_by() \
        .values("case_id").annotate(m=Min("created_at")).values("m")
    for shop_id, created, event_at, message_at in shops(AfterSalesCase.objects.filter(in_window), "shop_id") \
            .annotate(ev=Subquery(first_event), msg=Subquery(first_message)).values_list(
                "shop_id", "created_at", "ev", "msg"):
        answered = [t for t in (event_at, message_at) if t is not None]
        if answered:
            out[shop_id].response_seconds.append((min(answered) - created).total_seconds())
    # ratings given in the window
    for shop_id, n, stars in shops(CaseRating.objects.filter(created_at__gte=lo, created_at__lt=hi),
                                   "shop_id").order_by().values_list("shop_id").annotate(
            n=Count("id"), s=Sum("stars")):
        out[shop_id].ratings, out[shop_id].stars = n, stars or 0
    return dict(out)


def shop_categories() -> dict[int, str]:
    """Each shop's category: the one most of its products have (a tie: the alphabetically first)."""
    tally: dict[int, Counter[str]] = defaultdict(Counter)
    for shop_id, category, n in Product.objects.order_by().values_list("shop_id", "category").annotate(
            n=Count("id")):
        tally[shop_id][category] += n
    return {shop_id: sorted(c.items(), key=lambda kv: (-kv[1], kv[0]))[0][0] for shop_id, c in tally.items()}


@dataclass
class Scorecard:
    shop: Shop
    lo: datetime
    hi: datetime
    counts: Counts
    category: str | None
    category_average: dict[str, Any]

    def as_json(self) -> dict[str, Any]:
        """api.md's scorecard (plus `category` and the raw `counts`, so every figure can be checked)."""
        c = self.counts
        return {
            "shop": self.shop.code, "from": self.lo.isoformat(), "to": self.hi.isoformat(),
            **c.figures(),
            "rating": {"mean": _s(c.rating_mean), "count": c.ratings},
            "category": self.category,
            "category_average": self.category_average,
            "held_to_thresholds": c.held_to_thresholds,
            "counts": {"order_items_paid": c.items_paid, "ruled_refund": c.ruled_refund,
                       "escalated_or_intervened": c.intervened, "opened": c.opened,
                       "quality_refunds": c.quality_refunds, "refunds_paid": len(c.refund_seconds),
                       "responded": len(c.response_seconds), "terminal": c.terminal,
                       "self_resolved": c.self_resolved},
        }


CATEGORY_CACHE_SECONDS = 300


def category_figures(category: str | None, categories: dict[int, str], lo: datetime, hi: datetime, *,
                     cached: bool = True) -> dict[str, Any]:
    """The pooled figures of every shop of the category; for the live window kept 5 minutes in the cache: the
    pool is the costly part of a scorecard (docs/quality.md) and moves slowly."""
    if category is None:
        return Counts().figures()
    key = f"scorecard:category:{category}"
    if cached:
        hit = cache.get(key)
        if hit is not None:
            return dict(hit)
    pool = Counts()
    for counts in counts_by_shop([sid for sid, cat in categories.items() if cat == category], lo, hi).values():
        pool.add(counts)
    figures = pool.figures()
    if cached:
        cache.set(key, figures, CATEGORY_CACHE_SECONDS)
    return figures


def shop_scorecard(shop: Shop, *, now: datetime | None = None) -> Scorecard:
    """The scorecard over the 30 days ending `now` (default: this moment; only then is the category's pool
    read from the 5-minute cache)."""
    lo, hi = window(now)
    own = counts_by_shop([shop.pk], lo, hi).get(shop.pk, Counts())
    categories = shop_categories()
    category = categories.get(shop.pk)
    return Scorecard(shop=shop, lo=lo, hi=hi, counts=own, category=category,
                     category_average=category_figures(category, categories, lo, hi, cached=now is None))


def all_shop_counts(*, now: datetime | None = None) -> tuple[datetime, datetime, dict[int, Counts]]:
    """Every shop's counts over the window (the staff dashboard and the consequences' evaluation)."""
    lo, hi = window(now)
    return lo, hi, counts_by_shop(None, lo, hi)


def trend(shop: Shop, *, now: datetime | None = None, weeks: int = 6) -> list[tuple[datetime, Counts]]:
    """The counts of the 30-day windows ending now and 1, 2, … weeks earlier (oldest first), for the charts."""
    now = now or timezone.now()
    points = []
    for k in range(weeks - 1, -1, -1):
        lo, hi = window(now - timedelta(days=7 * k))
        points.append((hi, counts_by_shop([shop.pk], lo, hi).get(shop.pk, Counts())))
    return points
