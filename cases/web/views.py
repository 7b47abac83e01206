"""The shopper's pages: orders with what after-sales is open, cases, the case page and its actions, notifications.

Views only shape input and output: every read goes through selectors, every write through the services,
and refusals (CaseError) come back next to the field they concern, in the shopper's language.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from cases import conditions, policy, services
from cases.api import evidence_file_response, messages_visible
from cases.choices import Action, Kind, Reason, State
from cases.deadlines import case_holiday_pause
from cases.evidence import evidence_add
from cases.models import AfterSalesCase, CaseEvidence, Holiday, Notification
from cases.permissions import available_actions, role_of
from cases.quality.ratings import case_used_pickup, rating_submit
from cases.quality.web import RatingForm, rating_context
from cases.selectors import case_detail_for, case_list_for
from portal.api import orders_for
from portal.api_support import CaseActionThrottle, MessageThrottle, UploadThrottle
from portal.errors import DomainError
from portal.http import AuthedRequest
from portal.labels import region_label
from portal.models import Role
from portal.ratelimit import throttled

from . import live, presenters
from . import pickup as pickup_ui
from .forms import AppealForm, EscalateForm, EvidenceForm, MessageForm, ReviseForm, ShipReturnForm, VisitForm

PAGE_SIZE = 10
OPEN_FILTERS: dict[str, list[str]] = {"open": sorted(policy.DEADLINE_FOR_STATE), "done": [State.REFUNDED, State.COMPLETED, State.CLOSED]}


def error_summary(*forms: Any) -> list[dict[str, str]]:
    """Every error of the bound forms, in order, each pointing at its input (the page's summary lists them)."""
    rows = []
    for form in forms:
        if not form.is_bound or not form.errors:
            continue
        for name, errors in form.errors.items():
            field = form.fields.get(name)
            for error in errors:
                rows.append({"label": str(field.label) if field else "", "error": str(error),
                             "id": form[name].auto_id if field else ""})
    return rows


def describe_errors(form: Any) -> None:
    """Point each invalid input at its error text, for screen readers (aria-describedby, aria-invalid)."""
    for name in form.errors:
        if name in form.fields:
            attrs = form.fields[name].widget.attrs
            attrs["aria-invalid"] = "true"
            attrs["aria-describedby"] = f"{form[name].auto_id}_error"


# --- orders ------------------------------------------------------------------------------------------

def item_view(item: Any, now: Any) -> dict[str, Any]:
    """One order item with, per kind, the reasons open now and the policy's own sentences for the rest."""
    cases = list(item.cases.all())
    ledger = policy.item_ledger(item, cases)
    kinds = []
    for option in policy.after_sales_options(item, now=now, ledger=ledger):
        groups: dict[str, dict[str, Any]] = {}
        for refusal in option.refused:
            group = groups.setdefault(refusal["detail"], {"detail": refusal["detail"], "code": refusal["code"],
                                                          "reasons": []})
            group["reasons"].append(Reason(refusal["reason"]).label)
        kinds.append({
            "kind": option.kind, "label": Kind(option.kind).label,
            "open": [(r, Reason(r).label) for r in option.open],
            "refused": list(groups.values()),
            "url": reverse("web:case_new", args=[item.pk]) + f"?kind={option.kind}",
        })
    open_case = next((c for c in cases if c.state not in (State.REFUNDED, State.COMPLETED, State.CLOSED)), None)
    return {"item": item, "cases": cases, "open_case": open_case, "kinds": kinds,
            "any_open": any(k["open"] for k in kinds),
            "claimable": policy.claimable(item, item.quantity, ledger)}


@login_required
@require_GET
def orders(request: AuthedRequest) -> HttpResponse:
    qs = orders_for(request.user) if request.user.role == Role.CONSUMER else orders_for(request.user).none()
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    now = timezone.now()
    rows = [{"order": order, "items": [item_view(i, now) for i in order.items.all()]} for order in page]
    return render(request, "web/orders.html", {"page": page, "rows": rows, "nav": "orders"})


# --- cases ---------------------------------------------------------------------------------------------

@login_required
@require_GET
def cases(request: AuthedRequest) -> HttpResponse:
    status = request.GET.get("status", "")
    states = ",".join(OPEN_FILTERS.get(status, []))
    qs = case_list_for(request.user, state=states or None)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "web/cases.html", {
        "page": page, "status": status, "nav": "cases", "units": presenters.duration_units(),
        "rows": [{"case": c, "tone": presenters.state_tone(c.state),
                  "deadline": presenters.deadline_view(c, viewer_role=role_of(request.user, c))} for c in page],
    })


def _load_case(request: AuthedRequest, case_id: int) -> AfterSalesCase:
    case = case_detail_for(request.user, case_id)
    if case is None:
        raise Http404
    return case


def visit_context(case: AfterSalesCase, actions: list[str]) -> dict[str, Any]:
    """docs/visits.md: the open visit slots while one may be booked, and the case's latest visit."""
    from pickups.models import RepairVisit
    from pickups.visits import visit_assess

    options = visit_assess(case=case) if Action.BOOK_VISIT in actions else None
    visit = (RepairVisit.objects.filter(case=case).select_related("slot").first()
             if case.state == State.AWAITING_VISIT or Action.BOOK_VISIT in actions else None)
    return {"visit_options": options, "visit": visit}


def case_context(request: AuthedRequest, case: AfterSalesCase, **forms: Any) -> dict[str, Any]:
    """Everything the case page shows; bound forms passed in keep what the shopper typed."""
    events = list(case.events.all())
    role = role_of(request.user, case)
    actions = available_actions(request.user, case) if role == "consumer" else []
    try:
        refund = case.refund
    except AfterSalesCase.refund.RelatedObjectDoesNotExist:
        refund = None
    defaults = {
        "revise_form": ReviseForm(kind=case.kind, initial={"amount": case.amount, "reason": case.reason}),
        "escalate_form": EscalateForm(),
        "appeal_form": AppealForm(),
        "answer_form": AppealForm(),
        "ship_form": ShipReturnForm(),
        "visit_form": VisitForm(),
        "message_form": MessageForm(),
        "evidence_form": EvidenceForm(),
    }
    rating_form = forms.pop("rating_form", None)
    defaults.update(forms)
    for form in defaults.values():
        describe_errors(form)
    return {
        "error_summary": error_summary(*defaults.values()),
        "canonical_url": reverse("web:case", args=[case.pk]),
        "case": case, "role": role, "actions": actions, "refund": refund, "nav": "cases",
        "appeal_window_due": conditions.appeal_due(case, list(Holiday.objects.all())) if "appeal" in actions else None,
        "item": case.order_item, "order": case.order_item.order,
        "steps": presenters.stepper(case, events),
        "deadline": presenters.deadline_view(case, viewer_role=role),
        "holiday_note": presenters.holiday_note(case_holiday_pause(case)),
        "return_region": region_label(case.shop.return_region),
        "units": presenters.duration_units(),
        "timeline_html": presenters.timeline_html(
            sorted(presenters.timeline(events) + pickup_ui.pickup_timeline(case), key=lambda e: e.at)),
        "evidence": list(case.evidence.all()),
        "conversation": messages_visible(case, request.user),
        "tone": presenters.state_tone(case.state),
        "freight": presenters.freight_payer_label(case.freight_payer),
        # the revise form's ceiling, shown only where the form is (the item's other cases: one statement)
        "claimable": policy.claimable(case.order_item, case.quantity, policy.item_ledger(
            case.order_item, case.order_item.cases.exclude(pk=case.pk).select_related("refund")))
        if Action.REVISE in actions else None,
        "may_message": role in ("consumer", "merchant") and not case.is_terminal,
        "may_add_evidence": role in ("consumer", "merchant") and not case.is_terminal
        and case.state != State.AWAITING_RULING,
        "pickup": pickup_ui.panel(request, case),
        **visit_context(case, actions),
        **rating_context(case, role, rating_form),
        **defaults,
    }


@login_required
@require_GET
def case_detail(request: AuthedRequest, case_id: int) -> HttpResponse:
    case = _load_case(request, case_id)
    version = live.case_version(case.pk)
    if (same := live.unchanged(request, version)) is not None:
        return same
    return render(request, "web/case.html", {**case_context(request, case), "live_version": version})


CONSUMER_ACTIONS: dict[str, tuple[type[forms.Form] | None, str]] = {
    Action.WITHDRAW: (None, "withdraw_form"),
    Action.ESCALATE: (EscalateForm, "escalate_form"),
    Action.REVISE: (ReviseForm, "revise_form"),
    Action.SHIP_RETURN: (ShipReturnForm, "ship_form"),
    Action.CONFIRM_COMPLETION: (None, "confirm_form"),
    Action.APPEAL: (AppealForm, "appeal_form"),
    Action.ANSWER_APPEAL: (AppealForm, "answer_form"),
    Action.INTERCEPT: (None, "intercept_form"),
    Action.BOOK_VISIT: (VisitForm, "visit_form"),
    Action.CANCEL_VISIT: (None, "cancel_visit_form"),
}
DONE_MESSAGES: dict[str, str | Promise] = {
    Action.WITHDRAW: gettext_lazy("已撤销售后申请"),
    Action.ESCALATE: gettext_lazy("已申请平台介入，平台客服将尽快处理"),
    Action.REVISE: gettext_lazy("申请已修改并重新提交给商家"),
    Action.SHIP_RETURN: gettext_lazy("已提交退货物流信息"),
    Action.CONFIRM_COMPLETION: gettext_lazy("已确认完成"),
    Action.APPEAL: gettext_lazy("已提交申诉，平台主管将复核裁决"),
    Action.ANSWER_APPEAL: gettext_lazy("已提交申诉答复"),
    Action.INTERCEPT: gettext_lazy("已申请拦截包裹，请等待快递公司结果"),
    Action.BOOK_VISIT: gettext_lazy("已预约上门维修，技师将在所选时段上门"),
    Action.CANCEL_VISIT: gettext_lazy("已取消上门维修，请寄回商品或预约上门取件"),
}


def _case_url(case_id: int, anchor: str = "") -> str:
    return reverse("web:case", args=[case_id]) + (f"#{anchor}" if anchor else "")


def _run_consumer_action(request: AuthedRequest, case: AfterSalesCase, action: str, data: dict[str, Any]) -> None:
    """The form's cleaned values through the one dispatcher (empty optional fields left out)."""
    fields = {k: (str(v) if k == "amount" else v) for k, v in data.items() if v not in (None, "")}
    services.case_act(action=action, case_id=case.pk, actor=request.user, data=fields)


@login_required
@require_POST
@throttled(CaseActionThrottle)
def case_action(request: AuthedRequest, case_id: int, action: str) -> HttpResponse:
    case = _load_case(request, case_id)
    if action not in CONSUMER_ACTIONS:
        raise Http404
    form_class, form_name = CONSUMER_ACTIONS[action]
    form: forms.Form | None = None
    if form_class is ReviseForm:
        form = ReviseForm(request.POST, kind=case.kind)
    elif form_class is not None:
        form = form_class(request.POST)
    if form is not None and not form.is_valid():
        return render(request, "web/case.html", case_context(request, case, **{form_name: form}), status=400)
    try:
        _run_consumer_action(request, case, action, form.cleaned_data if form is not None else {})
    except DomainError as exc:
        if exc.status == 404:
            raise Http404 from exc
        if form is not None and exc.field in form.fields:
            form.add_error(exc.field, exc.detail)
            fresh = _load_case(request, case_id)
            return render(request, "web/case.html", case_context(request, fresh, **{form_name: form}), status=400)
        messages.error(request, exc.detail)
        return redirect(_case_url(case.pk))
    messages.success(request, str(DONE_MESSAGES[action]))
    return redirect(_case_url(case.pk))


@login_required
@require_POST
@throttled(MessageThrottle)
def case_message(request: AuthedRequest, case_id: int) -> HttpResponse:
    case = _load_case(request, case_id)
    form = MessageForm(request.POST)
    sent = False
    if form.is_valid():
        try:
            services.message_post(case_id=case.pk, author=request.user, body=form.cleaned_data["body"])
        except DomainError as exc:
            if exc.status == 404:
                raise Http404 from exc
            form.add_error("body" if exc.field == "body" else None, exc.detail)
        else:
            if request.htmx:
                form, sent = MessageForm(), True
            else:
                messages.success(request, _("消息已发送"))
                return redirect(_case_url(case.pk, "conversation"))
    describe_errors(form)
    context = {"case": case, "conversation": messages_visible(case, request.user), "message_form": form, "sent": sent,
               "may_message": not case.is_terminal, "role": role_of(request.user, case)}
    status = 200 if not form.errors else 400
    if request.htmx:
        return render(request, "web/_conversation.html", context)  # htmx swaps 2xx only
    return render(request, "web/case.html", case_context(request, case, message_form=form), status=status)


@login_required
@require_POST
@throttled(UploadThrottle)
def case_evidence(request: AuthedRequest, case_id: int) -> HttpResponse:
    case = _load_case(request, case_id)
    form = EvidenceForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            stored = evidence_add(case_id=case.pk, user=request.user, files=form.cleaned_data["files"],
                                  note=form.cleaned_data["note"])
        except DomainError as exc:
            if exc.status == 404:
                raise Http404 from exc
            form.add_error("files" if exc.field in ("files", "evidence") else None, exc.detail)
        else:
            messages.success(request, _("已上传 %(n)s 个凭证") % {"n": len(stored)})
            return redirect(_case_url(case.pk, "evidence"))
    return render(request, "web/case.html", case_context(request, case, evidence_form=form), status=400)


@login_required
@require_GET
def evidence_file(request: AuthedRequest, case_id: int, evidence_id: int) -> HttpResponseBase:
    evidence = CaseEvidence.objects.select_related("case").filter(pk=evidence_id, case_id=case_id).first()
    if evidence is None or role_of(request.user, evidence.case) is None:
        raise Http404
    return evidence_file_response(evidence)


# --- notifications -----------------------------------------------------------------------------------

@login_required
@require_GET
def notifications(request: AuthedRequest) -> HttpResponse:
    qs = Notification.objects.filter(user=request.user).select_related("case").order_by("-created_at", "-id")
    page = Paginator(qs, 20).get_page(request.GET.get("page"))
    items = list(page)
    unread_ids = [n.pk for n in items if n.read_at is None]
    rows = [{"n": n, "text": n.display(), "unread": n.pk in unread_ids,
             "url": case_url_for(request.user, n.case_id) if n.case_id else ""} for n in items]
    if unread_ids:
        Notification.objects.filter(pk__in=unread_ids, user=request.user).update(read_at=timezone.now())
    layout = "merchant/_layout.html" if request.user.role == Role.MERCHANT else "base.html"
    return render(request, "web/notifications.html", {"page": page, "rows": rows, "nav": "notifications",
                                                      "layout": layout})


def case_url_for(user: Any, case_id: int) -> str:
    """Where a reader of a notification works on the case: the desk, the staff review or the shopper's page."""
    if user.role == Role.MERCHANT:
        return reverse("merchant:case", args=[case_id])
    if getattr(user, "is_platform_staff", False):
        return reverse("admin:cases_aftersalescase_review", args=[case_id])
    return reverse("web:case", args=[case_id])


@login_required
@require_POST
def case_rate(request: AuthedRequest, case_id: int) -> HttpResponse:
    case = _load_case(request, case_id)
    form = RatingForm(request.POST, with_pickup=case_used_pickup(case))
    if form.is_valid():
        data = form.cleaned_data
        try:
            rating_submit(case_id=case.pk, consumer=request.user, stars=data["stars"], tags=data["tags"],
                          comment=data["comment"], pickup_stars=data.get("pickup_stars"))
        except DomainError as exc:
            if exc.status == 404:
                raise Http404 from exc
            if exc.field and exc.field in form.fields:
                form.add_error(exc.field, exc.detail)
            else:
                messages.error(request, exc.detail)
                return redirect(reverse("web:case", args=[case.pk]) + "#rating")
        else:
            messages.success(request, _("感谢您的评价"))
            return redirect(reverse("web:case", args=[case.pk]) + "#rating")
    return render(request, "web/case.html", case_context(request, case, rating_form=form), status=400)
