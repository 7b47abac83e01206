"""Door-to-door pickup on the case page, through the pickups app's own services and selectors.

The panel says whether a pickup can be booked and, if not, every reason why; the fee and who pays it;
the open slots by day; and, once booked, the pickup's status with cancel or reschedule when allowed.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from cases.choices import State
from cases.models import AfterSalesCase
from portal.api_support import CaseActionThrottle
from portal.errors import DomainError
from portal.ratelimit import throttled

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
PAYER_TEXT = {
    "consumer": gettext_lazy("您承担"),
    "merchant": gettext_lazy("商家承担"),
    "insurance": gettext_lazy("运费险承担"),
}


def _slots_by_day(slots: list[Any]) -> list[dict[str, Any]]:
    days: OrderedDict[str, list[Any]] = OrderedDict()
    for slot in slots:
        start = timezone.localtime(slot.start)
        days.setdefault(start.strftime("%Y-%m-%d"), []).append(slot)
    return [{"day": day, "slots": day_slots} for day, day_slots in days.items()]


def panel(request: HttpRequest, case: AfterSalesCase, *, error: str = "", selected: str = "") -> dict[str, Any] | None:
    """What the return section shows about pickup; None when the case has nothing to do with pickup."""
    try:
        from pickups import services as pickup_services
        from pickups.models import CANCELLABLE_STATES, PickupState
        from pickups.selectors import current_pickup
    except ImportError:  # the pickups app is not installed in this build
        return {"ready": False} if case.state == State.AWAITING_RETURN else None
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
        })
    if case.state != State.AWAITING_RETURN:
        return context
    rebook = pickup is not None and pickup.state == PickupState.FAILED
    assessment = pickup_services.pickup_assess(case=case, ignore_pickup_id=pickup.pk if rebook else None)
    reasons = [r for r in assessment.reasons if not (r == "pickup_active" and pickup is not None)]
    context.update({
        "eligible": assessment.eligible,
        "reasons": [{"code": r, "text": REASON_TEXT.get(r, r)} for r in reasons],
        "fee": assessment.fee,
        "payer": assessment.payer,
        "payer_label": context.get("payer_label") or PAYER_TEXT.get(assessment.payer, assessment.payer),
        "consumer_pays": assessment.payer == "consumer",
        "days": _slots_by_day(assessment.slots) if assessment.eligible else [],
        "show_booking": pickup is None or pickup.state in (PickupState.CANCELLED, PickupState.INSPECTION_FAILED),
    })
    return context


def _redirect_to_case(case_id: int) -> HttpResponse:
    return redirect(reverse("web:case", args=[case_id]) + "#return")


def _rerender(request: HttpRequest, case_id: int, exc: DomainError, selected: str) -> HttpResponse:
    from .views import _load_case, case_context

    case = _load_case(request, case_id)
    context = case_context(request, case)
    context["pickup"] = panel(request, case, error=exc.detail, selected=selected)
    return render(request, "web/case.html", context, status=400)


def _call(request: HttpRequest, case_id: int, run: Any, done: str) -> HttpResponse:
    selected = str(request.POST.get("slot", ""))
    try:
        run()
    except DomainError as exc:
        if exc.status == 404:
            raise Http404 from exc
        if exc.field == "slot" or exc.code == "no_slot":
            return _rerender(request, case_id, exc, selected)
        messages.error(request, exc.detail)
        return _redirect_to_case(case_id)
    except Exception:  # noqa: BLE001 — e.g. the courier hand-off run eagerly after commit; never a 500 here
        log.exception("pickup action failed outside the domain rules", extra={"case": case_id})
        messages.warning(request, _("操作已提交，但快递公司暂未确认，请查看下方的取件状态"))
        return _redirect_to_case(case_id)
    messages.success(request, done)
    return _redirect_to_case(case_id)


def _own_case(request: HttpRequest, case_id: int) -> AfterSalesCase:
    from cases.selectors import case_detail_for

    case = case_detail_for(request.user, case_id)
    if case is None:
        raise Http404
    return case


def _own_pickup(request: HttpRequest, case_id: int, pickup_id: int) -> Any:
    from pickups.models import Pickup

    case = _own_case(request, case_id)
    pickup = Pickup.objects.filter(pk=pickup_id, case=case).first()
    if pickup is None:
        raise Http404
    return pickup


@login_required
@require_POST
@throttled(CaseActionThrottle)
def pickup_book(request: HttpRequest, case_id: int) -> HttpResponse:
    from pickups.services import pickup_book as book

    case = _own_case(request, case_id)
    return _call(request, case.pk, lambda: book(case_id=case.pk, actor=request.user, slot_id=request.POST.get("slot")),
                 str(_("已预约上门取件，快递员将在所选时段上门")))


@login_required
@require_POST
@throttled(CaseActionThrottle)
def pickup_cancel(request: HttpRequest, case_id: int, pickup_id: int) -> HttpResponse:
    from pickups.services import pickup_cancel as cancel

    pickup = _own_pickup(request, case_id, pickup_id)
    return _call(request, case_id, lambda: cancel(pickup_id=pickup.pk, actor=request.user),
                 str(_("已取消上门取件")))


@login_required
@require_POST
@throttled(CaseActionThrottle)
def pickup_reschedule(request: HttpRequest, case_id: int, pickup_id: int) -> HttpResponse:
    from pickups.services import pickup_reschedule as reschedule

    pickup = _own_pickup(request, case_id, pickup_id)
    return _call(request, case_id,
                 lambda: reschedule(pickup_id=pickup.pk, actor=request.user, slot_id=request.POST.get("slot")),
                 str(_("已改约上门取件时段")))
