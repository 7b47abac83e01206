"""Eligibility, money and deadline durations: pure functions over data (lifecycle.md)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import formats, timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from portal.models import EXCLUDED_NO_REASON_CATEGORIES, OrderItem

from . import lifecycle
from .choices import (
    MERCHANT_FAULT_REASONS,
    QUALITY_REASONS,
    TERMINAL_STATES,
    DeadlineName,
    FreightPayer,
    Kind,
    Reason,
)
from .models import AfterSalesCase, DeadlinePolicy, Holiday

SHANGHAI = ZoneInfo("Asia/Shanghai")
CENT = Decimal("0.01")
ZERO = Decimal("0.00")
DAY = 86400

REASONS_FOR_KIND: dict[str, tuple[str, ...]] = {
    Kind.REFUND_ONLY: tuple(Reason.values),
    Kind.RETURN_REFUND: tuple(r for r in Reason.values if r not in (Reason.NOT_SHIPPED, Reason.NOT_RECEIVED)),
    Kind.EXCHANGE: tuple(r for r in Reason.values if r not in (Reason.NOT_SHIPPED, Reason.NOT_RECEIVED)),
    Kind.REPAIR: tuple(
        r for r in Reason.values if r not in (Reason.NOT_SHIPPED, Reason.NOT_RECEIVED, Reason.NO_REASON)
    ),
}

# Day windows by (kind group, reason group); None = no window; "warranty" = product warranty.
WINDOW_DAYS: dict[str, dict[str, int | None | str]] = {
    "refund": {"no_reason": 7, "quality": 7, "other": 15, "not_shipped": None, "not_received": None},
    "exchange": {"no_reason": 7, "quality": 15, "other": 15},
    "repair": {"quality": "warranty", "damaged_in_transit": "warranty", "other": "warranty"},
}
DAMAGE_REPORT_HOURS = 48

# Deadline defaults in seconds; `merchant_response` has variants.
DEFAULT_DEADLINE_SECONDS: dict[str, int] = {
    DeadlineName.CONSUMER_REVISE: 5 * DAY,
    DeadlineName.CONSUMER_SHIP: 7 * DAY,
    DeadlineName.MERCHANT_RECEIVE: 10 * DAY,
    DeadlineName.MERCHANT_SHIP_REPLACEMENT: 5 * DAY,
    DeadlineName.MERCHANT_REPAIR: 15 * DAY,
    DeadlineName.CONSUMER_CONFIRM: 10 * DAY,
    DeadlineName.EVIDENCE: 3 * DAY,
    DeadlineName.RULING_SLA: 5 * DAY,
    DeadlineName.APPEAL_ANSWER: 3 * DAY,
    DeadlineName.INTERCEPTION: 48 * 3600,
    DeadlineName.TECHNICIAN_VISIT: 5 * DAY,
}
# How long after a ruling it may be appealed (docs/appeals.md): not a clock row, computed from the ruling's
# time with the holidays; `CASE_DEADLINES_SECONDS["appeal_window"]` overrides it like a clock's duration.
APPEAL_WINDOW_SECONDS = 3 * DAY
MERCHANT_RESPONSE_SECONDS = {"not_shipped": 24 * 3600, "refund_only": 48 * 3600, "other": 5 * DAY}

# Which clock guards which state, and who must act while it runs (the lifecycle table's).
DEADLINE_FOR_STATE: Mapping[str, str] = lifecycle.DEADLINE_FOR_STATE
PARTY_FOR_DEADLINE: dict[str, str] = {d.name: d.party for d in lifecycle.DEADLINES.values()}


def money(value: Decimal | str | int) -> Decimal:
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def local_date(moment: datetime) -> date:
    return timezone.localtime(moment, SHANGHAI).date()


def window_end(signed_at: datetime, days: int) -> datetime:
    """Day 1 is the day after signing; day N ends at 24:00 Asia/Shanghai."""
    last_day = local_date(signed_at) + timedelta(days=days)
    return datetime.combine(last_day + timedelta(days=1), time.min, tzinfo=SHANGHAI)


# --- money ----------------------------------------------------------------------------------

@dataclass
class ItemLedger:
    """What has already happened to an order item's units and money."""

    units_used: int = 0
    units_value: Decimal = ZERO  # what those used units were worth (the sum of their claims' values)
    refunded_total: Decimal = ZERO
    money_only_refunded: Decimal = ZERO
    open_case_number: str | None = None


def units_value(item: OrderItem, units: int, ledger: ItemLedger) -> Decimal:
    """What was paid for `units` more of the item's units (lifecycle.md, Money): paid × k / n rounded half-up
    once; when they are the item's last unclaimed units, paid minus what the earlier units were worth, so
    the parts always add up to paid."""
    if units <= 0:
        return ZERO
    if ledger.units_used + units >= item.quantity:
        return money(item.paid) - ledger.units_value
    return money(Decimal(item.paid) * units / item.quantity)


def item_ledger(item: OrderItem, cases: Iterable | None = None) -> ItemLedger:
    """Summarise the item's cases: units refunded or returned, money refunded, an open case."""
    if cases is None:
        cases = AfterSalesCase.objects.filter(order_item=item).select_related("refund")
    ledger = ItemLedger()
    for case in sorted(cases, key=lambda c: (c.created_at, c.pk)):
        if case.state not in TERMINAL_STATES:
            ledger.open_case_number = case.number
        refund = getattr(case, "refund", None) if _has_refund(case) else None
        if refund is None:
            continue
        ledger.refunded_total += refund.amount
        units = min(case.quantity, item.quantity - ledger.units_used)
        full_value = units_value(item, units, ledger)
        if case.refund_on_receipt or case.kind != Kind.REFUND_ONLY or refund.amount >= full_value:
            ledger.units_used += units
            ledger.units_value += full_value
        else:
            ledger.money_only_refunded += refund.amount
    return ledger


def _has_refund(case) -> bool:
    try:
        return case.refund is not None
    except Exception:  # RelatedObjectDoesNotExist
        return False


def claimable(item: OrderItem, quantity: int, ledger: ItemLedger | None = None) -> Decimal:
    """What was paid for the case's units minus what was already refunded on the item without units."""
    ledger = ledger or item_ledger(item)
    units = min(quantity, item.quantity - ledger.units_used)
    if units <= 0:
        return ZERO
    value = units_value(item, units, ledger)
    remaining_on_item = money(item.paid) - ledger.refunded_total
    return max(ZERO, min(value - ledger.money_only_refunded, remaining_on_item))


def freight_payer(kind: str, reason: str, *, insured: bool) -> str | None:
    if kind == Kind.REFUND_ONLY:
        return None
    if reason in MERCHANT_FAULT_REASONS:
        return FreightPayer.MERCHANT
    return FreightPayer.INSURANCE if insured else FreightPayer.CONSUMER


# --- eligibility ----------------------------------------------------------------------------

@dataclass
class Refusal:
    code: str
    detail: str
    field: str | None = None
    status: int = 400


@dataclass
class Request:
    kind: str
    reason: str
    quantity: int
    amount: Decimal | None
    condition_intact: bool = False
    evidence_count: int = 0


def _reason_group(reason: str) -> str:
    if reason in QUALITY_REASONS:
        return "quality"
    return reason


def _fmt_day(moment: datetime) -> str:
    return formats.date_format(timezone.localtime(moment, SHANGHAI), "n月j日" if _is_zh() else "M j")


def _is_zh() -> bool:
    return (get_language() or "zh-hans").startswith("zh")


def time_window(item: OrderItem, kind: str, reason: str, now: datetime) -> Refusal | None:
    """The day window of lifecycle.md (warranty for repair); `damaged_in_transit` is checked later."""
    order = item.order
    product = item.product
    if reason in (Reason.NOT_SHIPPED, Reason.NOT_RECEIVED) or order.signed_at is None:
        return None
    if kind == Kind.REPAIR:
        if product.warranty_days <= 0:
            return Refusal("warranty_expired", _("该商品不提供保修服务"))
        end = window_end(order.signed_at, product.warranty_days)
        if now >= end:
            return Refusal("warranty_expired", _("保修期已于%(day)s结束") % {"day": _fmt_day(end - timedelta(seconds=1))})
        return None
    if reason == Reason.DAMAGED_IN_TRANSIT:
        return None
    group = "refund" if kind in (Kind.REFUND_ONLY, Kind.RETURN_REFUND) else "exchange"
    days = WINDOW_DAYS[group].get(_reason_group(reason))
    if not isinstance(days, int):
        return None
    end = window_end(order.signed_at, days)
    if now >= end:
        if reason == Reason.NO_REASON:
            text = _("7 天无理由退货已于%(day)s结束")
        else:
            text = _("%(days)s 天售后期限已于%(day)s结束")
        return Refusal("window_expired", text % {"day": _fmt_day(end - timedelta(seconds=1)), "days": days})
    return None


def check_eligibility(
    item: OrderItem, request: Request, *, now: datetime | None = None, ledger: ItemLedger | None = None
) -> Refusal | None:
    """The first failing rule of lifecycle.md's table, in its order, or None when eligible.

    (`not_your_order` is checked by the caller, who knows the user.)
    """
    now = now or timezone.now()
    order = item.order
    product = item.product
    kind, reason = request.kind, request.reason
    ledger = ledger or item_ledger(item)
    if ledger.open_case_number:
        return Refusal("case_already_open", _("该商品已有进行中的售后单 %(n)s") % {"n": ledger.open_case_number})
    if order.signed_at is None and not (
        kind == Kind.REFUND_ONLY and reason in (Reason.NOT_SHIPPED, Reason.NOT_RECEIVED)
    ):
        return Refusal("not_delivered", _("商品签收后才能申请此项售后"))
    if reason == Reason.NOT_SHIPPED and order.shipped_at is not None:
        return Refusal("reason_not_applicable", _("订单已发货，不能以“未发货”为由申请"), field="reason")
    if reason == Reason.NOT_RECEIVED and order.shipped_at is None:
        return Refusal("reason_not_applicable", _("订单尚未发货，不能以“未收到货”为由申请"), field="reason")
    if reason not in REASONS_FOR_KIND.get(kind, ()):
        return Refusal("reason_not_applicable", _("该原因不适用于所选的售后类型"), field="reason")
    available_units = item.quantity - ledger.units_used
    if request.quantity > available_units:
        return Refusal(
            "quantity_exceeds_purchased",
            _("最多可申请 %(n)s 件") % {"n": max(available_units, 0)},
            field="quantity",
        )
    if request.amount is not None:
        limit = claimable(item, request.quantity, ledger)
        if request.amount > limit:
            return Refusal("amount_exceeds_paid", _("退款金额不能超过 ¥%(max)s") % {"max": limit}, field="amount")
    if kind in (Kind.EXCHANGE, Kind.REPAIR) and request.amount not in (None, ZERO) and request.amount != 0:
        return Refusal("amount_not_allowed", _("换货和维修不涉及退款金额"), field="amount")
    refusal = time_window(item, kind, reason, now)
    if refusal:
        return refusal
    if reason == Reason.NO_REASON:
        if product.category in EXCLUDED_NO_REASON_CATEGORIES:
            return Refusal("category_excluded", _("该类商品（定制、生鲜、虚拟、报刊等）不支持七天无理由退换"))
        if not product.no_reason_returns:
            return Refusal("category_excluded", _("该商品不支持七天无理由退换"))
        if not request.condition_intact:
            return Refusal("condition_required", _("七天无理由退换需确认商品完好、不影响二次销售"),
                           field="condition_intact")
    if (reason in QUALITY_REASONS or reason == Reason.DAMAGED_IN_TRANSIT) and request.evidence_count < 1:
        return Refusal("evidence_required", _("请至少上传一张照片作为凭证"), field="evidence")
    if reason == Reason.DAMAGED_IN_TRANSIT and kind != Kind.REPAIR and order.signed_at is not None:
        if now > order.signed_at + timedelta(hours=DAMAGE_REPORT_HOURS):
            return Refusal("report_window_expired", _("运输破损须在签收后 48 小时内申报"))
    return None


@dataclass
class KindOption:
    kind: str
    open: list[str] = field(default_factory=list)
    refused: list[dict[str, str]] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"kind": self.kind, "open": self.open, "refused": self.refused}


def after_sales_options(item: OrderItem, *, now: datetime | None = None,
                        ledger: ItemLedger | None = None) -> list[KindOption]:
    """For each kind: the reasons open now, and why the others are not (the policy's own words).

    Evidence and the intact-goods declaration are what the consumer supplies with the request,
    so they are assumed here; everything else is checked as at submission.
    """
    now = now or timezone.now()
    ledger = ledger or item_ledger(item)
    options = []
    for kind in Kind.values:
        option = KindOption(kind=kind)
        units = max(item.quantity - ledger.units_used, 1)
        for reason in REASONS_FOR_KIND[kind]:
            probe = Request(kind=kind, reason=reason, quantity=units, amount=None,
                            condition_intact=True, evidence_count=1)
            refusal = check_eligibility(item, probe, now=now, ledger=ledger)
            if refusal is None:
                option.open.append(reason)
            elif refusal.code != "reason_not_applicable" or reason in (Reason.NOT_SHIPPED, Reason.NOT_RECEIVED):
                option.refused.append({"reason": reason, "code": refusal.code, "detail": refusal.detail})
        options.append(option)
    return options


# --- deadlines --------------------------------------------------------------------------------

def deadline_seconds(name: str, *, kind: str = "", reason: str = "", at: datetime | None = None,
                     policies: list | None = None) -> int:
    """Duration of a clock: CASE_DEADLINES_SECONDS wins, then policy rows, then the defaults.

    `policies` (from `deadline_policies_at`) spares the query when many clocks start at once.
    """
    override = settings.CASE_DEADLINES_SECONDS.get(name)
    if override is not None:
        return int(override)
    variant = ""
    if name == DeadlineName.MERCHANT_RESPONSE:
        if reason == Reason.NOT_SHIPPED:
            variant = "not_shipped"
        elif kind == Kind.REFUND_ONLY:
            variant = "refund_only"
        else:
            variant = "other"
    if policies is None:
        policies = deadline_policies_at(at or timezone.now(), names=[name])
    row = next((p for p in policies if p.name == name and p.variant in (variant, "")), None)
    if row is not None:
        return row.seconds
    if name == DeadlineName.MERCHANT_RESPONSE:
        return MERCHANT_RESPONSE_SECONDS[variant]
    return DEFAULT_DEADLINE_SECONDS[name]


def deadline_policies_at(at: datetime, *, names: list[str] | None = None) -> list:
    """The policy rows in force at `at`, newest first (a handful of rows)."""
    qs = DeadlinePolicy.objects.filter(effective_from__lte=at)
    if names is not None:
        qs = qs.filter(name__in=names)
    return list(qs.order_by("-effective_from", "-id"))


# --- the calendar: holidays and deadline policies, read once per process per version ---------------------

@dataclass(frozen=True)
class Calendar:
    """Every platform holiday and every deadline policy row, as read at one version of them (migration
    cases 0017: the version changes in the transaction of any write to either table). Rows are shared by the
    process's requests: read them, never change them."""

    version: int | None
    holidays: tuple[Holiday, ...]
    policies: tuple[DeadlinePolicy, ...]  # newest first, as `deadline_policies_at` orders them

    def holidays_from(self, since: datetime) -> list[Holiday]:
        """As `deadlines.active_holidays(since)`: the holidays not over by `since`'s day."""
        day = local_date(since)
        return [h for h in self.holidays if h.end_date >= day]

    def policies_at(self, at: datetime) -> list[DeadlinePolicy]:
        """As `deadline_policies_at(at)`: the rows in force at `at`, newest first."""
        return [p for p in self.policies if p.effective_from <= at]


_calendar: Calendar | None = None

# The version as a column of a statement a write path sends anyway (PostgreSQL; see cases 0017).
CALENDAR_VERSION_SQL = "(SELECT version FROM cases_calendarversion WHERE id = 1)"


def calendar(version: int | None) -> Calendar:
    """The calendar at `version` (read in a statement of the caller's, before this call): this process's copy
    when it was read at that version, else read now (two queries) and kept. Reading the rows after the version
    means the copy is never older than its version says (a change committed in between is newer: the next
    version read replaces it). `version` None (no version table: SQLite) reads every time."""
    global _calendar
    cached = _calendar
    if version is not None and cached is not None and cached.version == version:
        return cached
    fresh = Calendar(version=version,
                     holidays=tuple(Holiday.objects.order_by("start_date", "id")),
                     policies=tuple(DeadlinePolicy.objects.order_by("-effective_from", "-id")))
    if version is not None:
        _calendar = fresh
    return fresh


def holiday_intervals(holidays: Iterable) -> list[tuple[datetime, datetime]]:
    spans = []
    for h in holidays:
        start = datetime.combine(h.start_date, time.min, tzinfo=SHANGHAI)
        end = datetime.combine(h.end_date + timedelta(days=1), time.min, tzinfo=SHANGHAI)
        spans.append((start, end))
    spans.sort()
    merged: list[tuple[datetime, datetime]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def due_time(started_at: datetime, seconds: int, holidays: Iterable = ()) -> datetime:
    """Start + duration, with the clock paused over every holiday it runs into."""
    remaining = timedelta(seconds=seconds)
    cursor = started_at
    for start, end in holiday_intervals(holidays):
        if end <= cursor:
            continue
        if start > cursor:
            run = start - cursor
            if run >= remaining:
                break
            remaining -= run
        cursor = max(cursor, end)
    return cursor + remaining


def reminder_time(started_at: datetime, due_at: datetime, seconds: int) -> datetime:
    """24 h before due; for windows of 48 h or less, at half the window."""
    if seconds <= 48 * 3600:
        return due_at - timedelta(seconds=seconds / 2)
    return due_at - timedelta(hours=24)


def appeal_window_seconds() -> int:
    override = settings.CASE_DEADLINES_SECONDS.get("appeal_window")
    return int(override) if override is not None else APPEAL_WINDOW_SECONDS


def appeal_due(ruled_at: datetime, holidays: Iterable = ()) -> datetime:
    """When a ruling made at `ruled_at` stops being appealable: 3 days, paused over platform holidays."""
    return due_time(ruled_at, appeal_window_seconds(), holidays)
