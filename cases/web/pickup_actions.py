"""The consumer's pickup actions on a case page (book, cancel, reschedule): POST views that call the pickups
services and answer with the case page (`cases.web.pickup` builds the page's pickup panel and timeline)."""

from __future__ import annotations

import logging
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cases.models import AfterSalesCase
from cases.selectors import case_detail_for
from pickups.models import Pickup
from pickups.services import pickup_book as book
from pickups.services import pickup_cancel as cancel
from pickups.services import pickup_reschedule as reschedule
from portal.api_support import CaseActionThrottle
from portal.errors import DomainError
from portal.http import AuthedRequest
from portal.ratelimit import throttled

from .pickup import panel
from .views import _load_case, case_context

log = logging.getLogger("cases.web.pickup")


def _redirect_to_case(case_id: int) -> HttpResponse:
    return redirect(reverse("web:case", args=[case_id]) + "#return")


def _rerender(request: AuthedRequest, case_id: int, exc: DomainError, selected: str) -> HttpResponse:
    case = _load_case(request, case_id)
    context = case_context(request, case)
    context["pickup"] = panel(request, case, error=exc.detail, selected=selected)
    return render(request, "web/case.html", context, status=400)


def _call(request: AuthedRequest, case_id: int, run: Any, done: str) -> HttpResponse:
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


def _own_case(request: AuthedRequest, case_id: int) -> AfterSalesCase:
    case = case_detail_for(request.user, case_id)
    if case is None:
        raise Http404
    return case


def _own_pickup(request: AuthedRequest, case_id: int, pickup_id: int) -> Any:
    case = _own_case(request, case_id)
    pickup = Pickup.objects.filter(pk=pickup_id, case=case).first()
    if pickup is None:
        raise Http404
    return pickup


@login_required
@require_POST
@throttled(CaseActionThrottle)
def pickup_book(request: AuthedRequest, case_id: int) -> HttpResponse:
    case = _own_case(request, case_id)
    return _call(request, case.pk, lambda: book(case_id=case.pk, actor=request.user, slot_id=request.POST.get("slot")),
                 str(_("已预约上门取件，快递员将在所选时段上门")))


@login_required
@require_POST
@throttled(CaseActionThrottle)
def pickup_cancel(request: AuthedRequest, case_id: int, pickup_id: int) -> HttpResponse:
    pickup = _own_pickup(request, case_id, pickup_id)
    return _call(request, case_id, lambda: cancel(pickup_id=pickup.pk, actor=request.user),
                 str(_("已取消上门取件")))


@login_required
@require_POST
@throttled(CaseActionThrottle)
def pickup_reschedule(request: AuthedRequest, case_id: int, pickup_id: int) -> HttpResponse:
    pickup = _own_pickup(request, case_id, pickup_id)
    return _call(request, case_id,
                 lambda: reschedule(pickup_id=pickup.pk, actor=request.user, slot_id=request.POST.get("slot")),
                 str(_("已改约上门取件时段")))
