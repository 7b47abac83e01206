"""Door-to-door pickup on the case page, through the pickups app's own services and selectors.

The panel says whether a pickup can be booked and, if not, every reason why; the fee and who pays it;
the open slots by day; and, once booked, the pickup's status with cancel or reschedule when allowed.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from datetime import date
from typing import Any

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cases.choices import State
from cases.models import AfterSalesCase
from pickups import services as pickup_services
from pickups.models import CANCELLABLE_STATES, EventSource, PickupEvent, PickupState
from pickups.selectors import current_pickup
from portal import sqlcache
from portal.http import AuthedRequest
from portal.labels import region_label
from portal.masking import mask_phone

from .presenters import TimelineEntry

log = logging.getLogger(__name__)

REASON_TEXT = {
    "wrong_state": gettext_lazy("售后单当前状态不能预约上门取件"),
    "pickup_active": gettext_lazy("该售后单已有进行中的上门取件"),
    "region_not_covered": gettext_lazy("您的收货地址不在上门取件服务范围内"),
    "remote_region": gettext_lazy("偏远地区暂不支持上门取件"),
    "overweight": gettext_lazy("包裹超过快递员可取件的重量上限（30 公斤）"),
    "oversize": gettext_lazy("包裹尺寸超过快递员可取件的上限（最长边 150 厘米）"),
    "no_slot": gettext_lazy("未来 72 小时内的取件时段均已约满"),
}
# What a failed pickup's stored reason code means, and what the shopper can do next.
FAILURE_TEXT = {
    "dispatch_failed": gettext_lazy("快递公司多次未能接单，这次预约没有成功"),
    "courier_rejected": gettext_lazy("快递公司拒绝了这次预约"),
    "no_show": gettext_lazy("快递员未能在预约时段上门"),
    "inspection_mismatch": gettext_lazy("快递员验货时发现商品与申请不符"),
    "address_unreachable": gettext_lazy("快递员无法联系到您或找不到地址"),
    "consumer_absent": gettext_lazy("快递员上门时无人交件"),
}
FAILURE_FALLBACK = gettext_lazy("上门取件未能完成")
NEXT_STEP_TEXT = {
    "failed": gettext_lazy("您可以在下方重新选择时段改约，或自行寄回商品并填写运单号。"),
    "inspection_failed": gettext_lazy("请核对商品后自行寄回，或在会话中联系商家。"),
}
PAYER_TEXT = {
    "consumer": gettext_lazy("您承担"),
    "merchant": gettext_lazy("商家承担"),
    "insurance": gettext_lazy("运费险承担"),
}


WEEKDAYS = [gettext_lazy("周一"), gettext_lazy("周二"), gettext_lazy("周三"), gettext_lazy("周四"),
            gettext_lazy("周五"), gettext_lazy("周六"), gettext_lazy("周日")]
RELATIVE_DAYS = {0: gettext_lazy("今天"), 1: gettext_lazy("明天"), 2: gettext_lazy("后天")}


def failure_text(reason: str) -> str:
    """A stored failure reason (`dispatch_failed`, `courier_rejected: …`) as a sentence; never the raw code."""
    code = (reason or "").split(":", 1)[0].strip()
    return str(FAILURE_TEXT.get(code, FAILURE_FALLBACK))


def day_label(day: date, today: date) -> str:
    """`12月3日 明天 周四`: the date, how far it is, and the weekday."""
    values = {"date": _("%(m)s月%(d)s日") % {"m": day.month, "d": day.day}, "weekday": WEEKDAYS[day.weekday()]}
    offset = (day - today).days
    if offset in RELATIVE_DAYS:
        return str(_("%(date)s %(relative)s %(weekday)s") % {**values, "relative": RELATIVE_DAYS[offset]})
    return str(_("%(date)s %(weekday)s") % values)


def _slots_by_day(slots: list[Any]) -> list[dict[str, Any]]:
    days: OrderedDict[date, list[Any]] = OrderedDict()
    for slot in slots:
        days.setdefault(timezone.localdate(slot.start), []).append(slot)
    today = timezone.localdate()
    return [{"day": day_label(day, today), "date": day.isoformat(), "slots": day_slots}
            for day, day_slots in days.items()]


def address_view(region: str, line: str, contact: str, phone: str) -> dict[str, str]:
    return {"region": region_label(region), "line": line, "contact": contact, "phone": mask_phone(phone or "")}


def panel(request: AuthedRequest, case: AfterSalesCase, *, error: str = "", selected: str = "") -> dict[str, Any] | None:
    """What the return section shows about pickup; None when the case has nothing to do with pickup."""
    pickup = current_pickup(case)
    if case.state != State.AWAITING_RETURN and pickup is None:
        return None
    context: dict[str, Any] = {"ready": True, "pickup": pickup, "error": error, "selected": selected}
    if pickup is not None:
        context.update({
            "state_label": PickupState(pickup.state).label if pickup.state in PickupState.values else pickup.state,
            "may_cancel": pickup.state in CANCELLABLE_STATES,
            "may_reschedule": pickup.state == PickupState.FAILED and case.state == State.AWAITING_RETURN,
            "payer_label": PAYER_TEXT.get(pickup.payer, pickup.payer),
            "failure_text": failure_text(pickup.failure_reason) if pickup.failure_reason else "",
            "next_step": NEXT_STEP_TEXT.get(pickup.state, ""),
            "address": address_view(pickup.address_region, pickup.address_line, pickup.address_contact,
                                    pickup.address_phone),
        })
    if case.state != State.AWAITING_RETURN:
        return context
    order = case.order_item.order
    rebook = pickup is not None and pickup.state == PickupState.FAILED
    assessment = pickup_services.pickup_assess(case=case, ignore_pickup_id=pickup.pk if rebook and pickup is not None else None)
    reasons = [r for r in assessment.reasons if not (r == "pickup_active" and pickup is not None)]
    context.update({
        "eligible": assessment.eligible,
        "reasons": [{"code": r, "text": REASON_TEXT.get(r, r)} for r in reasons],
        "fee": assessment.fee,
        "payer": assessment.payer,
        "payer_label": context.get("payer_label") or PAYER_TEXT.get(assessment.payer, assessment.payer),
        "consumer_pays": assessment.payer == "consumer",
        "days": _slots_by_day(assessment.slots) if assessment.eligible else [],
        "booking_address": address_view(order.address_region, order.address_line, order.address_contact,
                                        order.address_phone),
        "show_booking": pickup is None or pickup.state in (PickupState.CANCELLED, PickupState.INSPECTION_FAILED),
    })
    return context


# --- the pickup's changes on the case timeline ------------------------------------------------------

PICKUP_ACTION_LABELS = {
    "book": gettext_lazy("预约上门取件"),
    "reschedule": gettext_lazy("改约上门取件"),
    "cancel": gettext_lazy("取消上门取件"),
    "dispatch": gettext_lazy("快递员已接单"),
    "pick_up": gettext_lazy("快递员已取件"),
    "depart": gettext_lazy("退货运输中"),
    "deliver": gettext_lazy("退货已送达商家"),
    "fail": gettext_lazy("上门取件失败"),
    "fail_inspection": gettext_lazy("上门取件验货不符"),
}


def _slot_text(payload: dict[str, Any]) -> str:
    start, end = parse_datetime(str(payload.get("start") or "")), parse_datetime(str(payload.get("end") or ""))
    if start is None or end is None:
        return ""
    start, end = timezone.localtime(start), timezone.localtime(end)
    return _("预约时段：%(day)s %(start)s–%(end)s") % {
        "day": day_label(start.date(), timezone.localdate()), "start": start.strftime("%H:%M"),
        "end": end.strftime("%H:%M")}


def _pickup_events_of(case_id: int) -> Any:
    return PickupEvent.objects.filter(pickup__case_id=case_id).order_by("at", "id")


def pickup_timeline(case: AfterSalesCase) -> list[Any]:
    """Every booking, courier step, failure and re-booking of the case's pickups, as timeline entries."""
    entries = []
    for event in sqlcache.objects("pickup_timeline", _pickup_events_of, case_id=case.pk):
        payload = event.payload or {}
        lines = []
        if event.action in ("book", "reschedule"):
            lines.append(_slot_text(payload))
        if payload.get("waybill"):
            lines.append(_("运单号 %(w)s") % {"w": payload["waybill"]})
        if event.action in ("fail", "fail_inspection"):
            lines.append(failure_text(str(payload.get("reason") or "")))
        source = str(EventSource(event.source).label) if event.source in EventSource.values else event.source
        state = str(PickupState(event.to_state).label) if event.to_state in PickupState.values else ""
        entries.append(TimelineEntry(
            at=event.at, who=source, label=str(PICKUP_ACTION_LABELS.get(event.action, _("上门取件有更新"))),
            state=state if event.to_state != event.from_state else "", detail="\n".join(x for x in lines if x)))
    return entries
