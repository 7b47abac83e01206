"""The merchant desk: queue, bulk actions, case handling (shop-wide pages are in `shop_views.py`).

Every view resolves the user's shops first; anything outside them is a 404 (never a 403 that would
confirm it exists). Case writes go through the case services via `cases.services.case_act`.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, cast

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from cases.api import evidence_file_response, messages_visible
from cases.choices import Kind, Reason
from cases.deadlines import case_holiday_pause
from cases.evidence import evidence_add
from cases.models import AfterSalesCase, CaseEvidence
from cases.permissions import available_actions
from cases.selectors import case_list_for, with_details
from cases.services import case_act, message_post
from cases.web import live, presenters
from cases.web.pickup import pickup_timeline
from cases.web.views import error_summary
from portal.api_support import CaseActionThrottle, MessageThrottle, UploadThrottle
from portal.errors import DomainError
from portal.http import AuthedRequest
from portal.models import Region, Shop
from portal.ratelimit import throttled

from . import services
from .forms import RejectForm, ShipForm, reason_choices
from .models import RejectReason, ReplyTemplate
from .selectors import (
    QUEUE_STATES,
    SORTS,
    QueueFilters,
    merchant_shops,
    party_for,
    queue_page_source,
    queue_state_summary,
    shops_selected,
    state_counts,
)
from .templatetags.merchant_tags import action_label, queue_rows_html

PAGE_SIZE = 50
BULK_MAX = 200


def merchant_required(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """Anonymous → login; anyone who is not an active merchant → 404. Puts `request.shops` in place."""

    @wraps(view)
    def wrapper(request: AuthedRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if request.user.role != "merchant" or not request.user.is_active:
            raise Http404
        request.shops = merchant_shops(request.user)  # type: ignore[attr-defined]  # the desk's views read their shops here
        return view(request, *args, **kwargs)

    return wrapper


def _chosen_shops(request: AuthedRequest) -> list[Shop]:
    chosen = shops_selected(request.shops, request.GET.get("shop") or request.POST.get("shop"))  # type: ignore[attr-defined]  # set by merchant_required
    if chosen is None:
        raise Http404
    return chosen


def _case_for(request: AuthedRequest, case_id: int, *, details: bool = False) -> AfterSalesCase:
    qs = case_list_for(request.user)
    if details:
        qs = with_details(qs)
    case = qs.filter(pk=case_id).first()
    if case is None:
        raise Http404
    return case


# --- queue -------------------------------------------------------------------------------------

@require_GET
@merchant_required
def queue(request: AuthedRequest) -> HttpResponse:
    shops = _chosen_shops(request)
    shop_ids = [s.pk for s in shops]
    filters = QueueFilters.from_params(request.GET)
    now = timezone.now()
    summary = queue_state_summary(shop_ids, filters, now=now)  # the tabs' counts and the live version
    version = live.queue_version(summary)
    if (same := live.unchanged(request, version)) is not None:
        return same
    counts = state_counts(summary)
    total = counts[filters.state] if filters.state else sum(counts.values())
    # deep pages read their ids first; CountedRows is the paginator's object list (count and slices), its
    # reads compiled once per shape of filters
    paginator: Paginator[Any] = Paginator(cast(Any, queue_page_source(shop_ids, filters, now=now)), PAGE_SIZE)
    paginator.count = total  # the grouped count already holds it: no second COUNT(*)
    page = paginator.get_page(request.GET.get("page"))
    rows = list(page.object_list)
    shop_param = {"shop": request.GET["shop"]} if request.GET.get("shop") in {s.code for s in shops} else {}
    base = {**shop_param, **filters.as_params()}
    context = {
        "shops": request.shops,  # type: ignore[attr-defined]  # set by merchant_required
        "shop_code": shop_param.get("shop", ""),
        "filters": filters,
        "counts": [(s, counts[s]) for s in QUEUE_STATES],
        "all_count": sum(counts.values()),
        "page": page,
        "rows": [(case, party_for(case.deadline_name)) for case in rows],  # also: rows_html below
        "now": now,
        "kinds": Kind.choices,
        "reasons": Reason.choices,
        "sorts": list(SORTS),
        "qs_without_state": urlencode({k: v for k, v in base.items() if k not in ("state", "page")}),
        "qs_without_page": urlencode(base),
        "qs_without_sort": urlencode({k: v for k, v in base.items() if k != "sort"}),
        "export_qs": urlencode(base),
        "bulk_actions": services.BULK_ACTIONS,
    }
    context["rows_html"] = queue_rows_html(context["rows"], now)  # the table's rows, built without the engine
    context["live_version"] = version
    context["live_url"] = request.path + "?" + urlencode([(k, str(v)) for k, v in request.GET.items() if k != "live"])
    template = "merchant/_queue_table.html" if request.htmx and request.htmx.target == "queue-table" else \
        "merchant/queue.html"
    return render(request, template, context)


# --- bulk actions ------------------------------------------------------------------------------

@require_POST
@merchant_required
def bulk(request: AuthedRequest) -> HttpResponse:
    """First POST: a confirmation (how many, how much money); second POST with `confirm`: run them."""
    action = request.POST.get("action", "")
    if action not in services.BULK_ACTIONS:
        messages.error(request, _("请选择批量操作"))
        return redirect("merchant:queue")
    try:
        ids = sorted({int(v) for v in request.POST.getlist("ids")})
    except ValueError as exc:
        raise Http404 from exc
    if not ids:
        messages.error(request, _("请先勾选售后单"))
        return redirect("merchant:queue")
    if len(ids) > BULK_MAX:
        messages.error(request, _("一次最多处理 %(n)s 个售后单") % {"n": BULK_MAX})
        return redirect("merchant:queue")
    cases = list(case_list_for(request.user).filter(pk__in=ids).order_by("deadline_due_at", "id"))
    if len(cases) != len(ids):
        raise Http404  # any case the user may not see makes the whole request unknown
    if request.POST.get("confirm") != "1":
        allowed = [c for c in cases if action in available_actions(request.user, c)]
        return render(request, "merchant/bulk_confirm.html", {
            "action": action, "cases": cases, "count": len(cases), "allowed": len(allowed),
            "money": services.bulk_money(action, allowed), "now": timezone.now(),
        })
    outcomes = services.bulk_run(action=action, cases=cases, user=request.user)
    ok = sum(1 for o in outcomes if o.ok)
    return render(request, "merchant/bulk_result.html", {
        "action": action, "outcomes": outcomes, "ok": ok, "failed": len(outcomes) - ok,
    })


# --- case handling -----------------------------------------------------------------------------

@require_GET
@merchant_required
def case_detail(request: AuthedRequest, case_id: int) -> HttpResponse:
    case = _case_for(request, case_id)
    version = live.case_version(case.pk)
    if (same := live.unchanged(request, version)) is not None:
        return same
    case = _case_for(request, case_id, details=True)
    return render(request, "merchant/case.html", {**_case_context(request, case), "live_version": version})


def _case_context(request: AuthedRequest, case: AfterSalesCase, **forms: Any) -> dict[str, Any]:
    actions = available_actions(request.user, case)
    own_reasons = list(RejectReason.objects.filter(shop=case.shop))
    choices = reason_choices(case.shop, own_reasons)
    order = case.order_item.order
    region = Region.resolve(order.address_region)
    shop_region = Region.resolve(case.shop.return_region)
    ships_to_consumer = bool({"ship_replacement", "ship_repaired"} & set(actions))
    evidence = list(case.evidence.all())
    events = list(case.events.all())
    bound = [form for form in forms.values() if form is not None]
    return {
        "error_summary": error_summary(*bound),
        "canonical_url": reverse("merchant:case", args=[case.pk]),
        "case": case,
        "order": order,
        "item": case.order_item,
        "actions": actions,
        "now": timezone.now(),
        "party": party_for(case.deadline_name),
        "holiday_note": presenters.holiday_note(case_holiday_pause(case)),
        "consumer_region": region.label() if region else order.address_region,
        "shop_region": shop_region.label() if shop_region else "",
        "show_full_address": ships_to_consumer,
        "consumer_evidence": [e for e in evidence if e.role == "consumer"],
        "merchant_evidence": [e for e in evidence if e.role != "consumer"],
        "evidence_count": len(evidence),
        "events": events,
        "timeline": sorted(presenters.timeline(events) + pickup_timeline(case), key=lambda e: e.at),
        "conversation": messages_visible(case, request.user),
        "templates": list(ReplyTemplate.objects.filter(shop=case.shop)),
        "reject_form": forms.get("reject_form") or RejectForm(choices=choices, prefix="reject"),
        "refuse_form": forms.get("refuse_form") or RejectForm(choices=choices, prefix="refuse"),
        "ship_form": forms.get("ship_form") or ShipForm(),
        "evidence_open": not case.is_terminal,
        "visit": _latest_visit(case),
    }


def _latest_visit(case: Any) -> Any:
    """docs/visits.md: the case's latest technician visit (None when it never had one)."""
    from pickups.models import RepairVisit

    return RepairVisit.objects.filter(case=case).select_related("slot", "courier").first()


@require_POST
@merchant_required
@throttled(CaseActionThrottle)
def case_action(request: AuthedRequest, case_id: int, action: str) -> HttpResponse:
    case = _case_for(request, case_id)
    url = reverse("merchant:case", args=[case.pk])
    if action not in ("approve", "reject", "confirm_receipt", "refuse_receipt", "ship_replacement",
                      "ship_repaired", "approve_refund", "appeal", "answer_appeal", "intercept"):
        raise Http404
    data: dict[str, Any] = {}
    invalid: dict[str, Any] = {}
    if action in ("appeal", "answer_appeal"):  # the statement is checked by the service (a 400 `required`)
        data = {"statement": request.POST.get("statement", ""), "evidence_files": request.FILES.getlist("files")}
    elif action in ("reject", "refuse_receipt"):
        prefix = "reject" if action == "reject" else "refuse"
        form = RejectForm(request.POST, choices=reason_choices(case.shop), prefix=prefix)
        if form.is_valid():
            data = {"reason": form.reason_text(), "reason_code": form.cleaned_data["reason_code"]}
        else:
            invalid[f"{prefix}_form"] = form
    elif action in ("ship_replacement", "ship_repaired"):
        ship = ShipForm(request.POST)
        if ship.is_valid():
            data = dict(ship.cleaned_data)
        else:
            invalid["ship_form"] = ship
    if invalid:
        detail = _case_for(request, case_id, details=True)
        messages.error(request, _("请检查填写的内容"))
        return render(request, "merchant/case.html", _case_context(request, detail, **invalid), status=400)
    try:
        if action in ("confirm_receipt", "refuse_receipt"):
            services.receipt_decide(case_id=case.pk, user=request.user, action=action, data=data,
                                    files=request.FILES.getlist("files"), note=request.POST.get("note", ""))
        else:
            case_act(action=action, case_id=case.pk, actor=request.user, data=data)
    except DomainError as exc:
        messages.error(request, services.error_message(exc))
    else:
        messages.success(request, _("已%(action)s：%(number)s") % {
            "action": _action_text(action), "number": case.number})
    return redirect(url)


def _action_text(action: str) -> str:
    return action_label(action)


@require_POST
@merchant_required
@throttled(MessageThrottle)
def case_message(request: AuthedRequest, case_id: int) -> HttpResponse:
    case = _case_for(request, case_id)
    try:
        message_post(case_id=case.pk, author=request.user, body=request.POST.get("body", ""))
    except DomainError as exc:
        messages.error(request, services.error_message(exc))
    else:
        messages.success(request, _("消息已发送"))
    return redirect(reverse("merchant:case", args=[case.pk]) + "#conversation")


@require_POST
@merchant_required
@throttled(UploadThrottle)
def case_evidence(request: AuthedRequest, case_id: int) -> HttpResponse:
    case = _case_for(request, case_id)
    try:
        stored = evidence_add(case_id=case.pk, user=request.user, files=request.FILES.getlist("files"),
                              note=request.POST.get("note", ""))
    except DomainError as exc:
        messages.error(request, services.error_message(exc))
    else:
        messages.success(request, _("已上传 %(n)s 个凭证") % {"n": len(stored)})
    return redirect(reverse("merchant:case", args=[case.pk]) + "#evidence")


@require_GET
@merchant_required
def evidence_file(request: AuthedRequest, evidence_id: int) -> HttpResponseBase:
    """The same file as /api/v1/evidence/<id>/file/, for the desk's own links (404 outside the shops)."""
    evidence = CaseEvidence.objects.select_related("case").filter(
        pk=evidence_id, case__shop__in=request.shops).first()  # type: ignore[attr-defined]  # set by merchant_required
    if evidence is None:
        raise Http404
    return evidence_file_response(evidence)
