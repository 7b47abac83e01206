"""How a case reads to a shopper: the progress stepper, the deadline sentence, the timeline labels.

Pure functions over a loaded case (no queries), so the case page costs the same for 3 or 300 events.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone
from django.utils.functional import Promise
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language, gettext_lazy, ngettext
from django.utils.translation import gettext as _

from cases.choices import Action, ActorRole, ClosureReason, DeadlineName, FreightPayer, Kind, Reason, State
from cases.models import AfterSalesCase, CaseEvent
from cases.policy import PARTY_FOR_DEADLINE

# --- stepper -------------------------------------------------------------------------------------

STEP_SUBMIT, STEP_MERCHANT, STEP_RETURN, STEP_RESOLVE, STEP_DONE = "submit", "merchant", "return", "resolve", "done"

STATE_STEP: dict[str, str] = {
    State.PENDING_MERCHANT: STEP_MERCHANT,
    State.REJECTED: STEP_MERCHANT,
    State.AWAITING_RETURN: STEP_RETURN,
    State.RETURN_IN_TRANSIT: STEP_RETURN,
    State.AWAITING_REPLACEMENT: STEP_RESOLVE,
    State.IN_REPAIR: STEP_RESOLVE,
    State.REPLACEMENT_IN_TRANSIT: STEP_RESOLVE,
}


@dataclass
class Step:
    key: str
    label: str
    status: str  # done | current | stopped | todo
    note: str | Promise = ""


def _resolve_label(case: AfterSalesCase) -> str:
    if case.kind == Kind.EXCHANGE:
        return _("换货")
    if case.kind == Kind.REPAIR:
        return _("维修")
    return _("退款")


def has_return_step(case: AfterSalesCase) -> bool:
    """`refund_only` sends nothing back, unless a ruling required the goods to be returned."""
    return case.kind != Kind.REFUND_ONLY or case.refund_on_receipt


def _step_before_arbitration(case: AfterSalesCase, events: list[CaseEvent]) -> str:
    for event in reversed(events):
        if event.to_state == State.IN_ARBITRATION and event.from_state:
            return STATE_STEP.get(event.from_state, STEP_MERCHANT)
    return STEP_MERCHANT


def stepper(case: AfterSalesCase, events: list[CaseEvent]) -> list[Step]:
    """提交申请 → 商家处理 → 退货 → 退款/换货/维修 → 完成, shaped by the case's kind and path."""
    keys = [STEP_SUBMIT, STEP_MERCHANT]
    if has_return_step(case):
        keys.append(STEP_RETURN)
    keys += [STEP_RESOLVE, STEP_DONE]
    labels = {STEP_SUBMIT: _("提交申请"), STEP_MERCHANT: _("商家处理"), STEP_RETURN: _("退货"),
              STEP_RESOLVE: _resolve_label(case), STEP_DONE: _("完成")}
    if case.refund_amount is not None and case.kind in (Kind.EXCHANGE, Kind.REPAIR) and case.state == State.REFUNDED:
        labels[STEP_RESOLVE] = _("退款")
    note: str | Promise = ""  # a state's or closure's label (lazy)
    stopped = False
    state = case.state
    if state in (State.REFUNDED, State.COMPLETED):
        current = None
    elif state in (State.IN_ARBITRATION, State.AWAITING_RULING):
        current = _step_before_arbitration(case, events)
        note = State(state).label
    elif state == State.CLOSED:
        previous = events[-1].from_state if events else None
        current = STATE_STEP.get(previous or "", STEP_MERCHANT)
        if previous in (State.IN_ARBITRATION, State.AWAITING_RULING):
            current = _step_before_arbitration(case, events)
        stopped = True
        note = ClosureReason(case.closure_reason).label if case.closure_reason else State.CLOSED.label
    else:
        current = STATE_STEP.get(state, STEP_MERCHANT)
        if state == State.REJECTED:
            stopped = True
            note = State.REJECTED.label
        else:
            note = State(state).label
    if current is not None and current not in keys:
        current = STEP_MERCHANT
    steps = []
    reached = current is None
    position = keys.index(current) if current is not None else len(keys)
    for index, key in enumerate(keys):
        if reached or index < position:
            status = "done"
        elif index == position:
            status = "stopped" if stopped else "current"
        else:
            status = "todo"
        steps.append(Step(key=key, label=labels[key], status=status, note=note if index == position else ""))
    return steps


# --- deadline --------------------------------------------------------------------------------------

DEADLINE_SENTENCES: dict[str, Any] = {
    DeadlineName.MERCHANT_RESPONSE: gettext_lazy("商家需在 %(left)s 内处理，超时将自动同意"),
    DeadlineName.CONSUMER_REVISE: gettext_lazy("请在 %(left)s 内修改申请或申请平台介入，超时售后将关闭"),
    DeadlineName.CONSUMER_SHIP: gettext_lazy("请在 %(left)s 内寄回商品，超时售后将关闭"),
    DeadlineName.MERCHANT_RECEIVE: gettext_lazy("商家需在 %(left)s 内确认收货，超时将自动确认收货"),
    DeadlineName.MERCHANT_SHIP_REPLACEMENT: gettext_lazy("商家需在 %(left)s 内发出换货，超时将由平台介入"),
    DeadlineName.MERCHANT_REPAIR: gettext_lazy("商家需在 %(left)s 内完成维修并寄回，超时将由平台介入"),
    DeadlineName.CONSUMER_CONFIRM: gettext_lazy("请在 %(left)s 内确认收到商品，超时将自动确认完成"),
    DeadlineName.EVIDENCE: gettext_lazy("举证期还剩 %(left)s，双方可在此期间补充凭证"),
    DeadlineName.RULING_SLA: gettext_lazy("平台将在 %(left)s 内作出裁决"),
}


def duration_units() -> dict[str, str]:
    """Unit words for the countdown, in the user's language (the script reads them from data-)."""
    spaced = not (get_language() or "zh-hans").startswith("zh")
    return {"d": _("天"), "h": _("小时"), "m": _("分"), "s": _("秒"), "sep": " " if spaced else ""}


def format_remaining(seconds: float, units: dict[str, str] | None = None) -> str:
    """`1天23小时` / `5小时3分` / `4分10秒`: two units are enough to know how urgent it is."""
    units = units or duration_units()
    total = max(int(seconds), 0)
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    sep = units.get("sep", "")
    if days:
        parts = [(days, "d"), (hours, "h")]
    elif hours:
        parts = [(hours, "h"), (minutes, "m")]
    else:
        parts = [(minutes, "m"), (secs, "s")]
    return sep.join(f"{n}{sep}{units[u]}" for n, u in parts)


@dataclass
class DeadlineView:
    name: str
    label: str
    party: str
    due_at: datetime
    before: str
    after: str
    remaining: str
    overdue: bool
    yours: bool


def deadline_view(case: AfterSalesCase, *, viewer_role: str | None, now: datetime | None = None
                  ) -> DeadlineView | None:
    """The running clock as one sentence naming who must act, split around the live countdown."""
    if not case.deadline_name or case.deadline_due_at is None or case.is_terminal:
        return None
    now = now or timezone.now()
    name = case.deadline_name
    template = str(DEADLINE_SENTENCES.get(name, gettext_lazy("剩余 %(left)s")))
    before, _sep, after = template.partition("%(left)s")
    left = (case.deadline_due_at - now).total_seconds()
    party = PARTY_FOR_DEADLINE.get(name, "")
    return DeadlineView(
        name=name, label=str(DeadlineName(name).label) if name in DeadlineName.values else name,
        party=party, due_at=case.deadline_due_at, before=before, after=after,
        remaining=format_remaining(left), overdue=left <= 0, yours=party == viewer_role,
    )


# --- holidays --------------------------------------------------------------------------------------

# The statutory holidays' names as `sync_holidays` writes them (portal/refdata/holidays.py NAMES); a name staff
# typed is shown as typed.
HOLIDAY_NAMES: dict[str, Any] = {
    "元旦": gettext_lazy("元旦"), "春节": gettext_lazy("春节"), "清明节": gettext_lazy("清明节"),
    "劳动节": gettext_lazy("劳动节"), "端午节": gettext_lazy("端午节"), "中秋节": gettext_lazy("中秋节"),
    "国庆节": gettext_lazy("国庆节"),
}


def holiday_name(name: str) -> str:
    """`春节` → Spring Festival in English; a merged block (国庆节、中秋节) part by part."""
    parts = [str(HOLIDAY_NAMES.get(part, part)) for part in name.split("、")]
    return _("、").join(parts)


def _extension(seconds: float) -> str:
    """`9 天` for whole days (a clock that ran over a whole holiday); `1天12小时` when it started inside one."""
    days, rest = divmod(int(seconds), 86400)
    if not rest:
        return ngettext("%(days)s 天", "%(days)s 天", days) % {"days": days}
    return format_remaining(seconds)


def holiday_note(pause: Any) -> str:
    """One line under a running clock that a holiday paused (cases.deadlines.HolidayPause): which holiday, by how
    long. Empty when it paused over none."""
    if pause is None:
        return ""
    values = {"names": _("、").join(holiday_name(h.name) for h in pause.holidays),
              "extension": _extension(pause.paused.total_seconds())}
    if pause.statutory:
        return _("因法定节假日（%(names)s）顺延 %(extension)s") % values
    return _("因平台节假日（%(names)s）顺延 %(extension)s") % values


# --- timeline ---------------------------------------------------------------------------------------

EXTRA_ACTION_LABELS = {"fast_refund": gettext_lazy("极速退款已发放"), "rate": gettext_lazy("买家评价了售后服务"),
                       "hide_rating_comment": gettext_lazy("平台隐藏了评价内容"),
                       "shop_notice": gettext_lazy("已通知店铺停止发货"),
                       "shop_notice_delivered": gettext_lazy("店铺系统已确认停止发货")}


# Choices' `.values` builds a new list on every access: the timeline asks hundreds of times per page.
ACTION_VALUES = frozenset(Action.values)
ROLE_VALUES = frozenset(ActorRole.values)
STATE_VALUES = frozenset(State.values)


def action_label(action: str) -> str:
    if action in ACTION_VALUES:
        return str(Action(action).label)
    return str(EXTRA_ACTION_LABELS.get(action, action))


def role_label(role: str) -> str:
    return str(ActorRole(role).label) if role in ROLE_VALUES else role


def _money(value: Any) -> str:
    return f"¥{value}"


def event_detail(event: CaseEvent) -> str:
    """The human part of an event's payload: why it was rejected, what was revised, where it was shipped."""
    p = event.payload or {}
    lines: list[str] = []
    if event.action == Action.SUBMIT:
        if p.get("kind") in Kind.values and p.get("reason") in Reason.values:
            lines.append(f"{Kind(p['kind']).label} · {Reason(p['reason']).label}")
        if p.get("amount") not in (None, "0.00"):
            lines.append(_("申请金额 %(a)s") % {"a": _money(p["amount"])})
        if p.get("evidence"):
            lines.append(_("上传凭证 %(n)s 张") % {"n": p["evidence"]})
    if event.action == Action.APPROVE and p.get("auto"):
        lines.append(_("商家超时未处理，系统自动同意"))
    if event.action == Action.CONFIRM_RECEIPT and p.get("auto"):
        lines.append(_("商家超时未确认，系统自动确认收货"))
    if p.get("reason") and event.action in (Action.REJECT, Action.REFUSE_RECEIPT):
        lines.append(_("理由：%(r)s") % {"r": p["reason"]})
    if event.action == Action.REVISE:
        if "reason" in p and isinstance(p["reason"], list) and p["reason"][-1] in Reason.values:
            lines.append(_("原因改为：%(r)s") % {"r": Reason(p["reason"][-1]).label})
        if "amount" in p and isinstance(p["amount"], list):
            lines.append(_("金额改为：%(a)s") % {"a": _money(p["amount"][-1])})
        if p.get("description"):
            lines.append(_("说明：%(d)s") % {"d": p["description"]})
    if p.get("statement"):
        lines.append(_("陈述：%(s)s") % {"s": p["statement"]})
    if p.get("carrier") or p.get("tracking_number"):
        via = _("（上门取件）") if p.get("pickup") else ""
        lines.append(_("%(c)s 运单号 %(t)s") % {"c": p.get("carrier", ""), "t": p.get("tracking_number", "")} + via)
    if event.action == Action.BOOK_VISIT and p.get("start"):
        lines.append(_("上门时段 %(s)s，上门费 %(f)s") % {"s": str(p["start"])[:16].replace("T", " "),
                                                      "f": _money(p.get("fee", ""))})
    if event.action in (Action.VISIT_REPAIRED, Action.VISIT_NEEDS_WORKSHOP, Action.VISIT_NOT_REPAIRABLE) \
            and p.get("note"):
        lines.append(_("技师备注：%(n)s") % {"n": p["note"]})
    if event.action == Action.CANCEL_VISIT and p.get("expired"):
        lines.append(_("技师未在时限内上门，改为寄回商品"))
    if event.action == "fast_refund" and p.get("amount"):
        lines.append(_("已先行退款 %(a)s，无需等待商家收货") % {"a": _money(p["amount"])})
    if event.action == Action.APPROVE_REFUND and p.get("amount"):
        lines.append(_("退款金额 %(a)s") % {"a": _money(p["amount"])})
    if event.action == Action.RULE:
        if p.get("decision") == "refund":
            lines.append(_("裁决退款 %(a)s") % {"a": _money(p.get("amount", ""))})
            if p.get("require_return"):
                lines.append(_("需先寄回商品"))
        elif p.get("decision") == "reject":
            lines.append(_("裁决支持商家"))
        if p.get("rationale"):
            lines.append(_("理由：%(r)s") % {"r": p["rationale"]})
        if p.get("compensation_points"):
            lines.append(_("补偿积分 %(n)s") % {"n": p["compensation_points"]})
    if event.action == Action.INTERVENE and p.get("note"):
        lines.append(p["note"])
    return "\n".join(str(line) for line in lines)


@dataclass
class TimelineEntry:
    at: datetime
    who: str
    label: str
    state: str
    detail: str

    @property
    def when(self) -> str:
        """Local time as the page shows it (formatted here: the `date` filter costs 100 × per page)."""
        return timezone.localtime(self.at).strftime("%Y-%m-%d %H:%M")


def state_label(state: str) -> str:
    return str(State(state).label) if state in STATE_VALUES else state


def timeline(events: list[CaseEvent]) -> list[TimelineEntry]:
    labels: dict[tuple[Callable[[str], str], str], str] = {}  # the same few labels, translated once per page

    def once(label: Callable[[str], str], value: str) -> str:
        if (label, value) not in labels:
            labels[(label, value)] = label(value)
        return labels[(label, value)]

    entries = []
    for event in events:
        who = once(role_label, event.role)
        if event.actor_username and event.role != ActorRole.CONSUMER:
            who = f"{who} {event.actor_username}"
        changed = event.to_state != event.from_state
        entries.append(TimelineEntry(at=event.at, who=who, label=once(action_label, event.action),
                                     state=once(state_label, event.to_state) if changed else "",
                                     detail=event_detail(event)))
    return entries



def timeline_html(entries: list[TimelineEntry]) -> SafeString:
    """The case page's timeline items, exactly as the template's loop wrote them (web/case.html), built
    here: a 100-event timeline cost the template engine ~800 variable lookups and tag renders per page.
    Every value is escaped as the template escaped it (conditional_escape)."""
    item = ('\n      <li>\n        <div class="when"><time datetime="{}">{}</time> · {}</div>\n'
            '        <div class="what">{}{}</div>\n        {}\n      </li>\n      ')
    parts = []
    for e in entries:
        badge = format_html(' <span class="badge">{}</span>', e.state) if e.state else ""
        detail = format_html('<div class="detail">{}</div>', e.detail) if e.detail else ""
        parts.append(format_html(item, e.at.isoformat(), e.when, e.who, e.label, badge, detail))
    return mark_safe("".join(conditional_escape(p) for p in parts))  # noqa: S308  (each part built by format_html)


# --- small labels ---------------------------------------------------------------------------------------

def freight_payer_label(payer: str | None) -> str:
    if payer is None:
        return _("仅退款无需寄回商品，不产生运费")
    if payer == FreightPayer.INSURANCE:
        return _("运费险承担（订单含退货运费险）")
    if payer == FreightPayer.MERCHANT:
        return _("商家承担退货运费")
    return _("买家承担退货运费")


STATE_TONE: dict[str, str] = {
    State.PENDING_MERCHANT: "info", State.REJECTED: "danger", State.AWAITING_RETURN: "primary",
    State.RETURN_IN_TRANSIT: "info", State.AWAITING_REPLACEMENT: "info", State.IN_REPAIR: "info",
    State.REPLACEMENT_IN_TRANSIT: "primary", State.IN_ARBITRATION: "warn", State.AWAITING_RULING: "warn",
    State.REFUNDED: "ok", State.COMPLETED: "ok", State.CLOSED: "",
}


def state_tone(state: str) -> str:
    return STATE_TONE.get(state, "")


def remaining_seconds(due_at: datetime, now: datetime | None = None) -> float:
    return (due_at - (now or timezone.now())) / timedelta(seconds=1)
