"""The shop scorecard: ONE definition of every service-quality figure (api.md "Scorecard definitions";
docs/quality.md). The API, the merchant metrics page, the staff dashboard and the consequences all read it.

Every figure is counted per shop by grouped aggregates over the same window, so one shop, a category's pool
of shops and the whole platform take the same few queries and always agree.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.core.cache import cache
from django.db import connection
from django.db.models import Aggregate, Count, DurationField, ExpressionWrapper, F, Q, Sum
from django.utils import timezone

from portal import sqlcache
from portal.models import OrderItem, Product, Shop

from .choices import QUALITY_REASONS, Action
from .models import SCORECARD_EVENTS, AfterSalesCase, CaseEvent, Refund
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
    """The raw numerators and denominators of one shop (or a pool of shops) over one window. Durations are
    kept as their count, their total (for the mean) and, per shop or per pool, their p90 by nearest rank (the
    database computes it: a pool's p90 is not made of its shops' p90s, so a pool is counted as one)."""

    items_paid: int = 0
    ruled_refund: int = 0
    intervened: int = 0
    opened: int = 0
    quality_refunds: int = 0
    refunds_paid: int = 0
    refund_seconds_total: Decimal = Decimal(0)
    refund_p90_seconds: Decimal | None = None
    responded: int = 0
    response_seconds_total: Decimal = Decimal(0)
    terminal: int = 0
    self_resolved: int = 0
    ratings: int = 0
    stars: int = 0

    @classmethod
    def of_durations(cls, *, refund_seconds: Iterable[float] = (), response_seconds: Iterable[float] = (),
                     **counts: int) -> Counts:
        """Counts from lists of durations in seconds (tests and the fallback of databases without
        `percentile_disc`)."""
        refunds, responses = list(refund_seconds), list(response_seconds)
        return cls(refunds_paid=len(refunds), refund_seconds_total=_sum(refunds),
                   refund_p90_seconds=p90_seconds(refunds), responded=len(responses),
                   response_seconds_total=_sum(responses), **counts)

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
        return hours_mean(self.refund_seconds_total, self.refunds_paid)

    @property
    def refund_hours_p90(self) -> Decimal | None:
        return None if self.refund_p90_seconds is None else hours(self.refund_p90_seconds)

    @property
    def first_response_hours(self) -> Decimal | None:
        return hours_mean(self.response_seconds_total, self.responded)

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


def _sum(seconds: Iterable[float]) -> Decimal:
    return sum((Decimal(str(s)) for s in seconds), Decimal(0))


def _seconds(value: timedelta | None) -> Decimal:
    """A duration's exact seconds (microseconds included)."""
    if value is None:
        return Decimal(0)
    return Decimal((value.days * 86_400 + value.seconds) * 1_000_000 + value.microseconds) / 1_000_000


def hours(seconds: Decimal) -> Decimal:
    return (seconds / 3600).quantize(HOUR_PLACES, ROUND_HALF_UP)


def hours_mean(total_seconds: Decimal, n: int) -> Decimal | None:
    """The mean of n durations, from their total in seconds, in hours (1 place, half up); None for none."""
    if not n:
        return None
    return hours(total_seconds / n)


def mean_hours(seconds: list[float]) -> Decimal | None:
    return hours_mean(_sum(seconds), len(seconds))


def p90_seconds(seconds: Iterable[float]) -> Decimal | None:
    """Nearest rank: the value at 1-based rank ⌈0.9 × n⌉ of the sorted durations (always an observed one)."""
    ordered = sorted(seconds)
    if not ordered:
        return None
    return Decimal(str(ordered[max(1, math.ceil(Decimal("0.9") * len(ordered))) - 1]))


def p90_hours(seconds: list[float]) -> Decimal | None:
    value = p90_seconds(seconds)
    return None if value is None else hours(value)


def window(now: datetime | None = None) -> tuple[datetime, datetime]:
    """The rolling 30 days ending now: [now − 30 × 24 h, now), shown in Asia/Shanghai."""
    hi = timezone.localtime(now or timezone.now(), SHANGHAI)
    return hi - WINDOW, hi


class P90(Aggregate):
    """PostgreSQL's nearest-rank 90th percentile: `percentile_disc(0.9)` is the first value whose rank is at
    least 0.9 × n, i.e. rank ⌈0.9 × n⌉ (api.md's p90)."""

    function = "PERCENTILE_DISC"
    name = "P90"
    template = "%(function)s(0.9) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = DurationField()


def _per_shop(rows: Iterable[tuple[Any, ...]], pooled: bool) -> Iterable[tuple[int, tuple[Any, ...]]]:
    """(shop id, figures) of grouped rows; a pooled query's single row counts for the pool (key 0)."""
    for row in rows:
        yield (0, row) if pooled else (row[0], row[1:])


def counts_by_shop(shop_ids: Iterable[int] | None, lo: datetime, hi: datetime, *,
                   pooled: bool = False) -> dict[int, Counts]:
    """Every figure's numerator and denominator per shop over [lo, hi) (None: every shop); with `pooled`, one
    Counts for all of them together under the key 0 (a category's pool: its p90 is the pool's own).

    One aggregate query per table and window, each figure a FILTER of it (docs/quality.md "Speed"): order
    items (by the order's shop and payment time each item carries), events, cases opened, cases ended, refunds (joined to their case for its submission and reason),
    ratings. Events and refunds are taken by their own `shop_id` (the case's, kept on every case-owned row):
    one shop's rows are a range of the (shop, time) indexes instead of the platform's window joined with the
    shop's cases.
    """
    ids = None if shop_ids is None else list(shop_ids)
    out: dict[int, Counts] = defaultdict(Counts)
    postgres = connection.vendor == "postgresql"

    def scoped(qs: Any, path: str) -> Any:
        qs = qs if ids is None else qs.filter(**{f"{path}__in": ids})
        return qs.order_by() if pooled else qs.order_by().values(path)

    def rows(build: Callable[..., Any], key: str, path: str, **aggregates: Any
             ) -> Iterable[tuple[int, tuple[Any, ...]]]:
        """`build(ids=…, lo=…, hi=…)`'s rows aggregated per shop (or pooled). Named shops' queries are compiled
        once per process (portal.sqlcache: the same SQL and parameters Django would send, without building
        and compiling six querysets on every scorecard request)."""
        names = list(aggregates)
        if pooled:
            result = scoped(build(ids=ids, lo=lo, hi=hi), path).aggregate(**aggregates)
            return [(0, tuple(result[n] for n in names))]
        if ids is None:
            return _per_shop(scoped(build(ids=ids, lo=lo, hi=hi), path).annotate(**aggregates)
                             .values_list(path, *names), pooled)

        def shaped(ids: list[int], lo: datetime, hi: datetime) -> Any:
            return (build(ids=ids, lo=lo, hi=hi).filter(**{f"{path}__in": ids}).order_by().values(path)
                    .annotate(**aggregates).values(path, *names))
        return [(row[path], tuple(row[n] for n in names))
                for row in sqlcache.rows(("scorecard", key, connection.vendor), shaped, ids=ids, lo=lo, hi=hi)]

    # order items paid in the window (rows of the order, whatever their quantity), by the order's shop and
    # payment time copied on the item: one range of its (shop, paid_at) index, read from the index alone
    for key, (n,) in rows(lambda ids, lo, hi: OrderItem.objects.filter(paid_at__gte=lo, paid_at__lt=hi), "items", "shop_id",
                          n=Count("shop_id")):
        out[key].items_paid = n
    # cases ruled `refund` / escalated or intervened in the window (each case once)
    is_intervention = Q(action__in=[Action.ESCALATE, Action.INTERVENE])
    for key, (ruled, intervened) in rows(
            lambda ids, lo, hi: CaseEvent.objects.filter(SCORECARD_EVENTS, at__gte=lo, at__lt=hi), "events", "shop_id",
            ruled=Count("case_id", distinct=True, filter=Q(action=Action.RULE)),
            intervened=Count("case_id", distinct=True, filter=is_intervention)):
        out[key].ruled_refund, out[key].intervened = ruled, intervened
    # cases opened in the window, with their first response; cases become terminal in it, with and without
    # the platform: one aggregate over each index range of the shop's cases (read from the index alone)
    answered = Q(first_response_at__isnull=False)
    response = ExpressionWrapper(F("first_response_at") - F("created_at"), output_field=DurationField())
    for key, (n_opened, responded, response_total) in rows(
            lambda ids, lo, hi: AfterSalesCase.objects.filter(created_at__gte=lo, created_at__lt=hi), "opened",
            "shop_id",
            opened=Count("shop_id"), responded=Count("shop_id", filter=answered),
            response_total=Sum(response, filter=answered)):
        counts = out[key]
        counts.opened, counts.responded, counts.response_seconds_total = n_opened, responded, _seconds(response_total)
    for key, (terminal, alone) in rows(
            lambda ids, lo, hi: AfterSalesCase.objects.filter(closed_at__gte=lo, closed_at__lt=hi), "ended",
            "shop_id",
            terminal=Count("shop_id"), alone=Count("shop_id", filter=Q(escalated=False))):
        out[key].terminal, out[key].self_resolved = terminal, alone
    # refunds paid in the window: how many on a quality reason, and submission → paid (mean and p90)
    duration = ExpressionWrapper(F("paid_at") - F("case__created_at"), output_field=DurationField())
    refund_aggregates: dict[str, Any] = {"n": Count("case_id"), "quality": Count("case_id", filter=Q(
        case__reason__in=list(QUALITY_REASONS))), "total": Sum(duration)}
    if postgres:
        refund_aggregates["p90"] = P90(duration)

    def refunds(ids: list[int] | None, lo: datetime, hi: datetime) -> Any:
        qs = Refund.objects.filter(paid_at__gte=lo, paid_at__lt=hi)
        if ids is not None and len(ids) == 1:
            # the same rows (a refund's shop is its case's): lets one shop's refunds meet its cases as a hash
            # join with the shop's range of `case_shop_scorecard` (one index read) instead of one case probe
            # per refund
            qs = qs.filter(case__shop_id__in=ids)
        return qs

    for key, figures in rows(refunds, "refunds", "shop_id", **refund_aggregates):
        counts = out[key]
        counts.refunds_paid, counts.quality_refunds, counts.refund_seconds_total = (
            figures[0], figures[1], _seconds(figures[2]))
        if postgres:
            counts.refund_p90_seconds = None if figures[3] is None else _seconds(figures[3])
    if not postgres:  # no percentile_disc (SQLite, the demo): the durations, ranked here
        paid = refunds(ids, lo, hi)
        by_shop: dict[int, list[timedelta]] = defaultdict(list)
        for shop_id, created, paid_at in (paid if ids is None else paid.filter(shop_id__in=ids)).values_list(
                "shop_id", "case__created_at", "paid_at"):
            if paid_at is not None:
                by_shop[0 if pooled else shop_id].append(paid_at - created)
        for key, durations in by_shop.items():
            out[key].refund_p90_seconds = p90_seconds([float(_seconds(d)) for d in durations])
    # ratings given in the window
    for key, (n, stars) in rows(lambda ids, lo, hi: CaseRating.objects.filter(created_at__gte=lo, created_at__lt=hi),
                                "ratings", "shop_id",
                                n=Count("id"), s=Sum("stars")):
        out[key].ratings, out[key].stars = n, stars or 0
    return dict(out)


def shop_categories() -> dict[int, str]:
    """Each shop's category: the one most of its products have (a tie: the alphabetically first)."""
    tally: dict[int, Counter[str]] = defaultdict(Counter)
    for shop_id, category, n in Product.objects.order_by().values_list("shop_id", "category").annotate(
            n=Count("id")):
        tally[shop_id][category] += n
    return {shop_id: sorted(c.items(), key=lambda kv: (-kv[1], kv[0]))[0][0] for shop_id, c in tally.items()}


def shop_category(shop_id: int) -> str | None:
    """One shop's category, by the same rule as `shop_categories`, from its own products only."""
    row = Product.objects.filter(shop_id=shop_id).order_by().values("category").annotate(n=Count("id")) \
        .order_by("-n", "category").values_list("category", flat=True).first()
    return row


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
                       "quality_refunds": c.quality_refunds, "refunds_paid": c.refunds_paid,
                       "responded": c.responded, "terminal": c.terminal,
                       "self_resolved": c.self_resolved},
        }


CATEGORY_CACHE_SECONDS = 300


def category_figures(category: str | None, lo: datetime, hi: datetime, *, cached: bool = True,
                     categories: dict[int, str] | None = None) -> dict[str, Any]:
    """The pooled figures of every shop of the category (one pooled count: its p90 is the pool's own); for the
    live window kept 5 minutes in the cache: the pool is the costly part of a scorecard (docs/quality.md) and
    moves slowly."""
    if category is None:
        return Counts().figures()
    key = f"scorecard:category:{category}"
    if cached:
        hit = cache.get(key)
        if hit is not None:
            return dict(hit)
    categories = shop_categories() if categories is None else categories
    members = [sid for sid, cat in categories.items() if cat == category]
    figures = counts_by_shop(members, lo, hi, pooled=True).get(0, Counts()).figures()
    if cached:
        cache.set(key, figures, CATEGORY_CACHE_SECONDS)
    return figures


def shop_scorecard(shop: Shop, *, now: datetime | None = None) -> Scorecard:
    """The scorecard over the 30 days ending `now` (default: this moment; only then is the category's pool
    read from the 5-minute cache)."""
    lo, hi = window(now)
    own = counts_by_shop([shop.pk], lo, hi).get(shop.pk, Counts())
    category = shop_category(shop.pk)
    return Scorecard(shop=shop, lo=lo, hi=hi, counts=own, category=category,
                     category_average=category_figures(category, lo, hi, cached=now is None))


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
