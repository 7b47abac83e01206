"""Reads for the staff workspace: the arbitration queue, a case's review, a shop's dispute history
(the dashboard's numbers are in `oversight.py`).

Every function costs a fixed number of queries whatever the number of rows, so the admin pages stay
fast on a busy platform.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import (
    Count,
    F,
    Prefetch,
    Q,
    QuerySet,
)
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from portal.models import Order, Shop, User

from .. import policy
from ..choices import (
    MERCHANT_FAULT_REASONS,
    QUALITY_REASONS,
    Action,
    ActorRole,
    ClosureReason,
    FreightPayer,
    Kind,
    Reason,
    State,
)
from ..models import AfterSalesCase, CaseEvent, CaseEvidence, CaseMessage

ARBITRATION_STATES = (State.IN_ARBITRATION, State.AWAITING_RULING)
OPEN_STATES = [s for s in State.values if s not in (State.REFUNDED, State.COMPLETED, State.CLOSED)]
HISTORY_DAYS = 90


# --- the queue ------------------------------------------------------------------------------

def queue_ordering() -> list[Any]:
    """Overdue rulings first, then the oldest case: the order an arbitration team works in."""
    return [F("overdue").desc(), F("created_at").asc(), "id"]


def case_queryset() -> QuerySet[AfterSalesCase]:
    return AfterSalesCase.objects.select_related(
        "shop", "consumer", "assignee", "order_item__order", "order_item__product", "refund"
    )


def arbitration_queue() -> QuerySet[AfterSalesCase]:
    return case_queryset().filter(state__in=ARBITRATION_STATES).order_by(*queue_ordering())


@dataclass
class TeamCounts:
    in_arbitration: int = 0
    awaiting_ruling: int = 0
    overdue: int = 0
    unassigned: int = 0
    mine: int = 0
    by_assignee: list[dict[str, Any]] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.in_arbitration + self.awaiting_ruling


def team_counts(user: User) -> TeamCounts:
    """The numbers the team looks at over the queue: how much waits, how much is late, who holds what."""
    queue = AfterSalesCase.objects.filter(state__in=ARBITRATION_STATES)
    totals = queue.aggregate(
        in_arbitration=Count("id", filter=Q(state=State.IN_ARBITRATION)),
        awaiting_ruling=Count("id", filter=Q(state=State.AWAITING_RULING)),
        overdue=Count("id", filter=Q(overdue=True)),
        unassigned=Count("id", filter=Q(assignee__isnull=True)),
        mine=Count("id", filter=Q(assignee=user)),
    )
    rows = (
        queue.filter(assignee__isnull=False)
        .values("assignee__username")
        .annotate(count=Count("id"), overdue=Count("id", filter=Q(overdue=True)))
        .order_by("-count", "assignee__username")
    )
    return TeamCounts(**totals, by_assignee=[
        {"username": r["assignee__username"], "count": r["count"], "overdue": r["overdue"]} for r in rows
    ])


def staff_users() -> QuerySet[User]:
    """Who a case may be assigned to: active staff in the agents or supervisors group."""
    return (
        User.objects.filter(is_active=True, is_staff=True)
        .filter(Q(groups__name__in=["agents", "supervisors"]) | Q(is_superuser=True))
        .distinct()
        .order_by("username")
    )


# --- one case's review ----------------------------------------------------------------------

@dataclass
class Statement:
    at: datetime
    author: str
    label: str
    text: str


@dataclass
class Review:
    case: AfterSalesCase
    consumer_statements: list[Statement]
    merchant_statements: list[Statement]
    consumer_evidence: list[CaseEvidence]
    merchant_evidence: list[CaseEvidence]
    staff_evidence: list[CaseEvidence]
    events: list[CaseEvent]
    messages: list[CaseMessage]
    claimable: Decimal
    rule: list[tuple[str, str]]
    history: ShopHistory
    refund: Any
    ruling: dict[str, Any] | None = None


def review_case(case_id: int, *, now: datetime | None = None) -> Review | None:
    """Everything an arbiter reads before ruling, in one fixed set of queries."""
    case = (
        case_queryset()
        .prefetch_related(
            Prefetch("events", queryset=CaseEvent.objects.select_related("actor").order_by("at", "id")),
            Prefetch("evidence", queryset=CaseEvidence.objects.select_related("uploaded_by")),
            Prefetch("messages", queryset=CaseMessage.objects.select_related("author").order_by("created_at", "id")),
        )
        .filter(pk=case_id)
        .first()
    )
    if case is None:
        return None
    events = list(case.events.all())
    action_labels, state_labels = dict(Action.choices), dict(State.choices)
    ruling: dict[str, Any] | None = None
    for event in events:
        # labels the review template shows beside each event (attributes of this page's instances only)
        event.action_label = action_labels.get(event.action, event.action)  # type: ignore[attr-defined]  # page-only attribute
        event.from_label = state_labels.get(event.from_state or "", "—")  # type: ignore[attr-defined]  # page-only attribute
        event.to_label = state_labels.get(event.to_state, event.to_state)  # type: ignore[attr-defined]  # page-only attribute
        if event.action == Action.RULE:
            ruling = {**(event.payload or {}), "at": event.at, "by": event.actor_username}
    evidence = list(case.evidence.all())
    consumer_statements, merchant_statements = party_statements(case, events)
    others = AfterSalesCase.objects.filter(order_item=case.order_item).exclude(pk=case.pk).select_related("refund")
    claim = policy.claimable(case.order_item, case.quantity, policy.item_ledger(case.order_item, others))
    return Review(
        case=case,
        consumer_statements=consumer_statements,
        merchant_statements=merchant_statements,
        consumer_evidence=[e for e in evidence if e.role == ActorRole.CONSUMER],
        merchant_evidence=[e for e in evidence if e.role == ActorRole.MERCHANT],
        staff_evidence=[e for e in evidence if e.role not in (ActorRole.CONSUMER, ActorRole.MERCHANT)],
        events=events,
        messages=list(case.messages.all()),
        claimable=claim,
        rule=lifecycle_rule(case, claim),
        history=shop_history(case.shop, now=now),
        refund=getattr(case, "refund", None) if _has_refund(case) else None,
        ruling=ruling,
    )


def _has_refund(case: AfterSalesCase) -> bool:
    try:
        return case.refund is not None
    except AfterSalesCase.refund.RelatedObjectDoesNotExist:
        return False


def party_statements(case: AfterSalesCase, events: list[CaseEvent]) -> tuple[list[Statement], list[Statement]]:
    """What each side said, from the case and its audit trail (the events' payloads keep the words)."""
    consumer: list[Statement] = []
    merchant: list[Statement] = []
    if case.description:
        consumer.append(Statement(case.created_at, case.consumer.username, _("申请描述"), case.description))
    for event in events:
        payload = event.payload or {}
        who = event.actor_username or _("系统")
        if event.role == ActorRole.CONSUMER:
            if event.action == Action.ESCALATE and payload.get("statement"):
                consumer.append(Statement(event.at, who, _("申请平台介入的陈述"), str(payload["statement"])))
            elif event.action == Action.REVISE and payload.get("description"):
                consumer.append(Statement(event.at, who, _("修改后的描述"), str(payload["description"])))
        elif event.role == ActorRole.MERCHANT:
            if event.action == Action.REJECT and payload.get("reason"):
                merchant.append(Statement(event.at, who, _("拒绝理由"), str(payload["reason"])))
            elif event.action == Action.REFUSE_RECEIPT and payload.get("reason"):
                merchant.append(Statement(event.at, who, _("拒绝收货理由"), str(payload["reason"])))
    return consumer, merchant


def _window_text(case: AfterSalesCase) -> str:
    product = case.order_item.product
    reason, kind = case.reason, case.kind
    if reason in (Reason.NOT_SHIPPED, Reason.NOT_RECEIVED):
        return _("无时间限制（未发货/未收到货）")
    if kind == Kind.REPAIR:
        if product.warranty_days <= 0:
            return _("该商品不提供保修")
        return _("保修期：签收后 %(days)s 天") % {"days": product.warranty_days}
    if reason == Reason.DAMAGED_IN_TRANSIT:
        return _("签收后 48 小时内申报运输破损")
    group = "refund" if kind in (Kind.REFUND_ONLY, Kind.RETURN_REFUND) else "exchange"
    days = policy.WINDOW_DAYS[group].get("quality" if reason in QUALITY_REASONS else reason)
    if isinstance(days, int):
        return _("签收后 %(days)s 天内（按自然日计，上海时间）") % {"days": days}
    return _("无时间限制")


def lifecycle_rule(case: AfterSalesCase, claim: Decimal) -> list[tuple[str, str]]:
    """The short rule of lifecycle.md that governs this case's kind and reason, as label/text rows."""
    freight: str | Promise
    if case.freight_payer:
        freight = FreightPayer(case.freight_payer).label
    else:
        freight = _("不涉及退货运费（仅退款）")
    if case.reason in MERCHANT_FAULT_REASONS:
        fault = _("商家责任原因：举证不足时通常支持消费者，运费由商家承担")
    elif case.reason == Reason.NO_REASON:
        fault = _("七天无理由：商品须完好、不影响二次销售，运费由买家承担（有运费险时由运费险承担）")
    elif case.reason in (Reason.NOT_SHIPPED, Reason.NOT_RECEIVED):
        fault = _("未发货/未收到货：商家须提供发货与物流凭证")
    else:
        fault = _("其他原因：双方各自举证，运费由买家承担（有运费险时由运费险承担）")
    if case.kind in (Kind.EXCHANGE, Kind.REPAIR):
        money = _("申请金额为 0；裁决退款时最多可退 ¥%(max)s") % {"max": claim}
    else:
        money = _("最多可退 ¥%(max)s（实付金额减去已退款）") % {"max": claim}
    return [
        (_("售后期限"), _window_text(case)),
        (_("运费承担"), str(freight)),
        (_("可退金额"), money),
        (_("判定要点"), fault),
    ]


# --- the shop's dispute history -----------------------------------------------------------

@dataclass
class ShopHistory:
    shop: Shop
    since: datetime
    disputes: list[AfterSalesCase]
    outcomes: dict[str, int]
    orders: int
    cases: int

    @property
    def dispute_count(self) -> int:
        return len(self.disputes)


def outcome_of(case: AfterSalesCase) -> str:
    """How a dispute ended, in the words a supervisor uses."""
    if not case.is_terminal and case.state not in (State.AWAITING_RETURN, State.RETURN_IN_TRANSIT):
        return "open"
    if case.ruled:
        if case.closure_reason == ClosureReason.RULED_FOR_MERCHANT:
            return "for_merchant"
        return "for_consumer"
    if case.state == State.CLOSED:
        return "closed"
    if case.state in (State.REFUNDED, State.COMPLETED):
        return "settled"
    return "open"


OUTCOME_LABELS = {
    "open": gettext_lazy("进行中"),
    "for_consumer": gettext_lazy("裁决支持消费者"),
    "for_merchant": gettext_lazy("裁决支持商家"),
    "settled": gettext_lazy("双方和解/已完成"),
    "closed": gettext_lazy("已关闭（撤销或超时）"),
}


def shop_history(shop: Shop, *, days: int = HISTORY_DAYS, now: datetime | None = None,
                 limit: int = 50) -> ShopHistory:
    now = now or timezone.now()
    since = now - timedelta(days=days)
    disputes = list(
        AfterSalesCase.objects.filter(shop=shop, escalated=True, created_at__gte=since)
        .select_related("consumer", "refund")
        .order_by("-created_at", "-id")[:limit]
    )
    outcomes = {key: 0 for key in OUTCOME_LABELS}
    for case in disputes:
        outcomes[outcome_of(case)] += 1
    return ShopHistory(
        shop=shop, since=since, disputes=disputes, outcomes=outcomes,
        orders=Order.objects.filter(shop=shop, paid_at__gte=since).count(),
        cases=AfterSalesCase.objects.filter(shop=shop, created_at__gte=since).count(),
    )
