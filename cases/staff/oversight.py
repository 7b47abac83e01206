"""Reads for the staff oversight pages: the dashboard's numbers and one shop's overview (fixed query counts)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db.models import (
    Count,
    Q,
)
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.functional import Promise

from portal.models import Order, Shop, User

from .. import policy
from ..choices import (
    Action,
    ActorRole,
    RefundStatus,
    State,
)
from ..models import AfterSalesCase, CaseEvent, Refund
from ..quality.couriers import CourierQuality, CourierTrend, courier_quality, courier_trends
from ..quality.models import BuyerStanding, ShopStanding
from ..quality.present import scorecard_rows, show
from ..scorecard import Counts, all_shop_counts, shop_scorecard, trend
from .selectors import ARBITRATION_STATES, OPEN_STATES, ShopHistory, shop_history


def open_cases_by_state() -> list[tuple[str, str | Promise, int]]:
    counts = dict(
        AfterSalesCase.objects.filter(state__in=OPEN_STATES).values_list("state").annotate(n=Count("id"))
    )
    return [(s, State(s).label, counts.get(s, 0)) for s in OPEN_STATES]


def auto_approvals_by_day(*, days: int = 14, now: datetime | None = None) -> list[tuple[date, int]]:
    """Cases the system approved because the merchant did not answer in time, per Shanghai day."""
    now = now or timezone.now()
    today = policy.local_date(now)
    first = today - timedelta(days=days - 1)
    start = datetime.combine(first, datetime.min.time(), tzinfo=policy.SHANGHAI)
    rows = (
        CaseEvent.objects.filter(action=Action.APPROVE, role=ActorRole.SYSTEM, at__gte=start)
        .annotate(day=TruncDate("at", tzinfo=policy.SHANGHAI))
        .values("day")
        .annotate(n=Count("id"))
    )
    counts = {r["day"]: r["n"] for r in rows}
    return [(first + timedelta(days=i), counts.get(first + timedelta(days=i), 0)) for i in range(days)]


@dataclass
class ShopQuality:
    """A shop's line on the dashboard: the scorecard's counts (cases/scorecard.py, the one definition)."""

    shop: Shop
    counts: Counts
    standing: ShopStanding | None = None
    trend: list[tuple[datetime, str]] = field(default_factory=list)

    @property
    def code(self) -> str:
        return self.shop.code

    @property
    def dispute_rate(self) -> str:
        return show("dispute_rate", None if self.counts.dispute_rate is None else str(self.counts.dispute_rate))

    @property
    def intervention_rate(self) -> str:
        rate = self.counts.intervention_rate
        return show("intervention_rate", None if rate is None else str(rate))


def shops_by_dispute_rate(*, limit: int = 10, now: datetime | None = None) -> list[ShopQuality]:
    """Shops with disputes or interventions in the scorecard's 30 days, by dispute rate then intervention rate."""
    _lo, _hi, counts = all_shop_counts(now=now)
    busy = {sid: c for sid, c in counts.items() if c.ruled_refund or c.intervened}
    shops = Shop.objects.in_bulk(list(busy))
    ranked = sorted(busy.items(), key=lambda kv: (-(kv[1].dispute_rate or 0), -(kv[1].intervention_rate or 0),
                                                  shops[kv[0]].code))
    return [ShopQuality(shop=shops[sid], counts=c) for sid, c in ranked[:limit]]


def shops_under_consequences(*, now: datetime | None = None) -> list[ShopQuality]:
    """Shops over the dispute threshold or warned on response time, each with its dispute-rate trend."""
    standings = ShopStanding.objects.filter(Q(over_dispute_threshold=True) | Q(response_warned=True)) \
        .select_related("shop").order_by("shop__code")
    rows = []
    for standing in standings:
        weekly = trend(standing.shop, now=now, weeks=4)
        rows.append(ShopQuality(shop=standing.shop, counts=weekly[-1][1], standing=standing,
                                trend=[(hi, show("dispute_rate", None if c.dispute_rate is None else str(c.dispute_rate)))
                                       for hi, c in weekly]))
    return rows


@dataclass
class Dashboard:
    by_state: list[tuple[str, str | Promise, int]]
    open_total: int
    overdue_rulings: int
    queue: int
    unassigned: int
    auto_approvals: list[tuple[date, int]]
    auto_approvals_max: int
    top_shops: list[ShopQuality]
    failed_refunds: int
    consequences: list[ShopQuality] = field(default_factory=list)
    serial_returners: list[BuyerStanding] = field(default_factory=list)
    couriers: list[CourierQuality] = field(default_factory=list)
    courier_trends: list[CourierTrend] = field(default_factory=list)


def dashboard(*, now: datetime | None = None) -> Dashboard:
    by_state = open_cases_by_state()
    auto = auto_approvals_by_day(now=now)
    queue = AfterSalesCase.objects.filter(state__in=ARBITRATION_STATES).aggregate(
        n=Count("id"), unassigned=Count("id", filter=Q(assignee__isnull=True)),
        overdue=Count("id", filter=Q(overdue=True)),
    )
    return Dashboard(
        by_state=by_state,
        open_total=sum(n for _s, _l, n in by_state),
        overdue_rulings=queue["overdue"],
        queue=queue["n"],
        unassigned=queue["unassigned"],
        auto_approvals=auto,
        auto_approvals_max=max([n for _d, n in auto] + [1]),
        top_shops=shops_by_dispute_rate(now=now),
        failed_refunds=Refund.objects.filter(status=RefundStatus.FAILED).count(),
        consequences=shops_under_consequences(now=now),
        serial_returners=list(BuyerStanding.objects.filter(serial_returner=True).select_related("consumer")
                              .order_by("-flagged_at")[:20]),
        couriers=courier_quality(now=now),
        courier_trends=courier_trends(now=now),
    )


@dataclass
class ShopOverview:
    shop: Shop
    orders: int
    cases: int
    disputes: int
    auto_approved: int
    by_state: list[tuple[str, str | Promise, int]]
    history: ShopHistory
    members: list[User]
    card: dict = field(default_factory=dict)
    card_rows: list = field(default_factory=list)


def shop_overview(shop: Shop, *, now: datetime | None = None) -> ShopOverview:
    totals = AfterSalesCase.objects.filter(shop=shop).aggregate(
        cases=Count("id"), disputes=Count("id", filter=Q(escalated=True)),
        auto=Count("id", filter=Q(auto_approved=True)),
    )
    counts = dict(AfterSalesCase.objects.filter(shop=shop).values_list("state").annotate(n=Count("id")))
    return ShopOverview(
        shop=shop,
        orders=Order.objects.filter(shop=shop).count(),
        cases=totals["cases"],
        disputes=totals["disputes"],
        auto_approved=totals["auto"],
        by_state=[(s, State(s).label, counts.get(s, 0)) for s in State.values if counts.get(s)],
        history=shop_history(shop, now=now),
        members=list(shop.members.order_by("username")),
        card=(card := shop_scorecard(shop, now=now).as_json()),
        card_rows=scorecard_rows(card),
    )
