"""Reads for the staff oversight pages: the dashboard's numbers and one shop's overview (fixed query counts)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import (
    Count,
    F,
    FloatField,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Cast, Coalesce, TruncDate
from django.utils import timezone

from portal.models import Order, Shop, User

from .. import policy
from ..choices import (
    Action,
    ActorRole,
    State,
)
from ..models import AfterSalesCase, CaseEvent
from .selectors import ARBITRATION_STATES, OPEN_STATES, ShopHistory, shop_history


def open_cases_by_state() -> list[tuple[str, str, int]]:
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


def shops_by_dispute_rate(*, limit: int = 10) -> QuerySet[Shop]:
    """Shops whose orders most often end in a dispute (escalated cases / orders)."""
    orders = (
        Order.objects.filter(shop=OuterRef("pk")).order_by().values("shop")
        .annotate(n=Count("id")).values("n")
    )
    disputes = (
        AfterSalesCase.objects.filter(shop=OuterRef("pk"), escalated=True).order_by().values("shop")
        .annotate(n=Count("id")).values("n")
    )
    cases = (
        AfterSalesCase.objects.filter(shop=OuterRef("pk")).order_by().values("shop")
        .annotate(n=Count("id")).values("n")
    )
    return (
        Shop.objects.annotate(
            order_count=Coalesce(Subquery(orders, output_field=IntegerField()), Value(0)),
            dispute_count=Coalesce(Subquery(disputes, output_field=IntegerField()), Value(0)),
            case_count=Coalesce(Subquery(cases, output_field=IntegerField()), Value(0)),
        )
        .filter(order_count__gt=0, dispute_count__gt=0)
        .annotate(rate=Cast(F("dispute_count"), FloatField()) / Cast(F("order_count"), FloatField()))
        .order_by("-rate", "-dispute_count", "code")[:limit]
    )


@dataclass
class Dashboard:
    by_state: list[tuple[str, str, int]]
    open_total: int
    overdue_rulings: int
    queue: int
    unassigned: int
    auto_approvals: list[tuple[date, int]]
    auto_approvals_max: int
    top_shops: list[Shop]
    failed_refunds: int


def dashboard(*, now: datetime | None = None) -> Dashboard:
    from ..choices import RefundStatus
    from ..models import Refund

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
        top_shops=list(shops_by_dispute_rate()),
        failed_refunds=Refund.objects.filter(status=RefundStatus.FAILED).count(),
    )


@dataclass
class ShopOverview:
    shop: Shop
    orders: int
    cases: int
    disputes: int
    auto_approved: int
    by_state: list[tuple[str, str, int]]
    history: ShopHistory
    members: list[User]

    @property
    def dispute_rate(self) -> float | None:
        return self.disputes / self.orders if self.orders else None


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
    )
