"""Admin views of the arbitration workspace: review a case, act on it through the services, oversee.

They are mounted by `cases.admin.AfterSalesCaseAdmin.get_urls` inside `admin_site.admin_view`, so the
admin's login and CSRF apply. Every write goes through a service; a `CaseError` becomes an admin
message, never a 500.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.admin import ModelAdmin
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from portal.api_support import CaseActionThrottle, MessageThrottle
from portal.http import AuthedRequest
from portal.labels import category_label, region_label
from portal.models import Shop
from portal.ratelimit import throttled
from portal.refdata.status import holidays_unsynced_year

from .. import services
from ..choices import Action, State
from ..deadlines import running_deadline
from ..models import AfterSalesCase
from ..permissions import available_actions
from ..web.live import case_version, unchanged
from ..web.pickup import pickup_timeline
from ..web.presenters import event_detail
from . import oversight, selectors
from .forms import AssignForm, MessageForm, NoteForm, RulingForm
from .services import case_assign


def _require_staff(request: AuthedRequest) -> None:
    if not request.user.is_platform_staff:
        raise PermissionDenied


def _review_url(case_id: int) -> str:
    return reverse("admin:cases_aftersalescase_review", args=[case_id])


def _back(case_id: int) -> HttpResponseRedirect:
    return HttpResponseRedirect(_review_url(case_id))


def _pickups_admin_url(request: AuthedRequest) -> str | None:
    """The pickups section of the admin, for those who may see it (the admin answers 404 to the others)."""
    if not request.user.has_module_perms("pickups"):
        return None
    try:
        return reverse("admin:app_list", kwargs={"app_label": "pickups"})
    except NoReverseMatch:
        return None


def case_review(request: AuthedRequest, model_admin: ModelAdmin, case_id: int,
                ruling_form: RulingForm | None = None, status: int = 200) -> HttpResponse:
    """Both sides' statements and evidence side by side, the order, the timeline, and the tools."""
    _require_staff(request)
    version = case_version(case_id)
    if ruling_form is None and (same := unchanged(request, version)) is not None:
        return same
    review = selectors.review_case(case_id)
    if review is None:
        raise Http404
    case = review.case
    for event in review.events:  # what the payload says, as sentences (no `reason_code: goods_used`)
        event.detail = event_detail(event)  # type: ignore[attr-defined]  # page-only attribute the template shows
    # the pickup's booking, courier steps, failures and re-bookings between the case's own events
    timeline: list[Any] = sorted([*review.events, *pickup_timeline(case)], key=lambda e: e.at)
    user = request.user
    actions = available_actions(user, case)
    can_rule = Action.RULE in actions
    if ruling_form is None and can_rule:
        ruling_form = RulingForm(claimable=review.claimable, initial={
            "amount": case.amount if case.amount else review.claimable,
        })
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.model._meta,
        "title": _("仲裁审阅 %(number)s") % {"number": case.number},
        "subtitle": case.number,
        "review": review,
        "timeline": timeline,
        "case": case,
        "order": case.order_item.order,
        "item": case.order_item,
        "category": category_label(case.order_item.product.category),
        "region": region_label(case.order_item.order.address_region),
        "deadline": running_deadline(case),
        "actions": actions,
        "can_rule": can_rule,
        "can_intervene": Action.INTERVENE in actions,
        "can_decide_appeal": Action.DECIDE_APPEAL in actions,
        "appeal_events": [e for e in review.case.events.all() if e.action in (Action.APPEAL, Action.ANSWER_APPEAL)],
        "can_close_evidence": Action.CLOSE_EVIDENCE in actions,
        "can_message_parties": case.escalated,
        "can_reassign": user.has_perm("cases.reassign_case"),
        "can_take": case.assignee_id is None and not case.is_terminal,
        "ruling_form": ruling_form,
        "message_form": MessageForm(initial={"internal": not case.escalated}),
        "note_form": NoteForm(),
        "assign_form": AssignForm(staff=selectors.staff_users(), initial={"assignee": case.assignee_id}),
        "outcome_labels": selectors.OUTCOME_LABELS,
        "in_arbitration": case.state in selectors.ARBITRATION_STATES,
        "now": timezone.now(),
        "live_version": version,
        "canonical_url": _review_url(case_id),
    }
    request.current_app = model_admin.admin_site.name
    return TemplateResponse(request, "admin/cases/aftersalescase/review.html", context, status=status)


def _post_only(request: AuthedRequest, case_id: int) -> HttpResponseRedirect | None:
    _require_staff(request)
    if request.method != "POST":
        return _back(case_id)
    return None


@throttled(CaseActionThrottle)
def case_rule(request: AuthedRequest, model_admin: ModelAdmin, case_id: int) -> HttpResponse:
    if (redirect := _post_only(request, case_id)) is not None:
        return redirect
    get_object_or_404(AfterSalesCase, pk=case_id)
    form = RulingForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请检查裁决表单中的错误"))
        return case_review(request, model_admin, case_id, ruling_form=form, status=400)
    data = form.cleaned_data
    try:
        case = services.case_act(action=Action.RULE, case_id=case_id, actor=request.user, data={
            "decision": data["decision"], "rationale": data["rationale"],
            "amount": data["amount"] if data["decision"] == "refund" else None,
            "require_return": data["require_return"], "compensation_points": data["compensation_points"]})
    except services.CaseError as exc:
        messages.error(request, exc.detail)
        if exc.field and exc.field in form.fields:
            form.add_error(exc.field, exc.detail)
        return case_review(request, model_admin, case_id, ruling_form=form, status=exc.status)
    model_admin.log_change(request, case, _("裁决：%(decision)s") % {"decision": data["decision"]})
    messages.success(request, _("已裁决，售后单现为“%(state)s”") % {"state": State(case.state).label})
    return _back(case_id)


@throttled(CaseActionThrottle)
def case_decide_appeal(request: AuthedRequest, model_admin: ModelAdmin, case_id: int) -> HttpResponse:
    """A supervisor who did not rule decides the appeal (docs/appeals.md); the service checks every field."""
    if (redirect := _post_only(request, case_id)) is not None:
        return redirect
    get_object_or_404(AfterSalesCase, pk=case_id)
    post = request.POST
    data: dict[str, object] = {name: post.get(name)
                               for name in ("outcome", "rationale", "decision", "amount", "compensation_points")}
    data["require_return"] = post.get("require_return") in ("on", "true", "1")
    if data["outcome"] == "uphold":
        data.update(decision=None, amount=None, compensation_points=None)
    try:
        case = services.case_act(action=Action.DECIDE_APPEAL, case_id=case_id, actor=request.user, data=data)
    except services.CaseError as exc:
        messages.error(request, exc.detail)
        return _back(case_id)
    model_admin.log_change(request, case, _("申诉复核：%(outcome)s") % {"outcome": data["outcome"]})
    messages.success(request, _("已复核申诉，售后单现为“%(state)s”") % {"state": State(case.state).label})
    return _back(case_id)


@throttled(CaseActionThrottle)
def case_intervene(request: AuthedRequest, model_admin: ModelAdmin, case_id: int) -> HttpResponse:
    if (redirect := _post_only(request, case_id)) is not None:
        return redirect
    form = NoteForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    try:
        services.case_act(action=Action.INTERVENE, case_id=case_id, actor=request.user, data={"note": note})
    except services.CaseError as exc:
        messages.error(request, exc.detail)
    else:
        messages.success(request, _("平台已介入，举证期开始"))
    return _back(case_id)


@throttled(CaseActionThrottle)
def case_close_evidence(request: AuthedRequest, model_admin: ModelAdmin, case_id: int) -> HttpResponse:
    if (redirect := _post_only(request, case_id)) is not None:
        return redirect
    try:
        services.case_act(action=Action.CLOSE_EVIDENCE, case_id=case_id, actor=request.user, data={})
    except services.CaseError as exc:
        messages.error(request, exc.detail)
    else:
        messages.success(request, _("举证已结束，等待裁决"))
    return _back(case_id)


@throttled(MessageThrottle)
def case_message(request: AuthedRequest, model_admin: ModelAdmin, case_id: int) -> HttpResponse:
    if (redirect := _post_only(request, case_id)) is not None:
        return redirect
    form = MessageForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("消息内容不能为空"))
        return _back(case_id)
    try:
        services.message_post(case_id=case_id, author=request.user, body=form.cleaned_data["body"],
                              internal=form.cleaned_data["internal"])
    except services.CaseError as exc:
        messages.error(request, exc.detail)
    else:
        messages.success(request, _("内部备注已保存") if form.cleaned_data["internal"] else _("消息已发送给双方"))
    return _back(case_id)


def case_assign_view(request: AuthedRequest, model_admin: ModelAdmin, case_id: int) -> HttpResponse:
    if (redirect := _post_only(request, case_id)) is not None:
        return redirect
    if request.POST.get("to") == "me":
        assignee = request.user
    else:
        form = AssignForm(request.POST, staff=selectors.staff_users())
        if not form.is_valid():
            messages.error(request, _("请选择有效的处理人"))
            return _back(case_id)
        assignee = form.cleaned_data["assignee"]
    try:
        case = case_assign(case_id=case_id, actor=request.user, assignee=assignee)
    except services.CaseError as exc:
        messages.error(request, exc.detail)
    else:
        name = assignee.username if assignee else _("无")
        model_admin.log_change(request, case, _("处理人：%(name)s") % {"name": name})
        messages.success(request, _("处理人已更新为 %(name)s") % {"name": name})
    return _back(case_id)


def dashboard(request: AuthedRequest, model_admin: ModelAdmin) -> HttpResponse:
    """The platform's numbers for supervisors and agents alike."""
    _require_staff(request)
    numbers = oversight.dashboard()
    context: dict[str, Any] = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.model._meta,
        "title": _("平台售后概览"),
        "d": numbers,
        "counts": selectors.team_counts(request.user),
        "pickups_admin_url": _pickups_admin_url(request),
        "holidays_unsynced_year": holidays_unsynced_year(timezone.localdate()),
    }
    request.current_app = model_admin.admin_site.name
    return TemplateResponse(request, "admin/cases/dashboard.html", context)


def shop_page(request: AuthedRequest, model_admin: ModelAdmin, code: str) -> HttpResponse:
    _require_staff(request)
    shop = get_object_or_404(Shop, code=code)
    overview = oversight.shop_overview(shop)
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.model._meta,
        "title": _("店铺售后：%(name)s") % {"name": shop.name},
        "o": overview,
        "return_region": region_label(shop.return_region),
        "outcome_labels": selectors.OUTCOME_LABELS,
    }
    request.current_app = model_admin.admin_site.name
    return TemplateResponse(request, "admin/cases/shop.html", context)
