"""The guided after-sales request: kind → reason → quantity and amount → description → photos → declaration.

The page offers only what the policy opens now and states why the rest is closed; the service still decides,
and its refusal lands next to the field it concerns with everything typed (and every checked photo) kept.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.files.base import ContentFile
from django.http import FileResponse, Http404, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from cases import policy, services
from cases.choices import MERCHANT_FAULT_REASONS, Kind, Reason
from cases.evidence import CheckedFile, evidence_validate
from portal.api_support import CaseCreateThrottle
from portal.errors import DomainError
from portal.http import AuthedRequest
from portal.models import OrderItem, Role
from portal.ratelimit import throttled

from . import presenters, stash
from .forms import CaseRequestForm
from .views import describe_errors, error_summary, item_view

# Refusals without a field of their own belong to the choice that caused them.
FIELD_FOR_CODE = {
    "window_expired": "reason", "warranty_expired": "reason", "category_excluded": "reason",
    "report_window_expired": "reason", "reason_not_applicable": "reason", "condition_required": "condition_intact",
    "evidence_required": "evidence", "too_many_files": "evidence", "file_too_large": "evidence",
    "unsupported_file_type": "evidence", "empty_file": "evidence", "amount_not_allowed": "amount",
    "amount_exceeds_paid": "amount", "quantity_exceeds_purchased": "quantity",
}


def _item_for(request: AuthedRequest, item_id: int) -> OrderItem:
    """The shopper's own item, or 404 (another shopper's item does not exist for them)."""
    if request.user.role != Role.CONSUMER:
        raise Http404
    item = (OrderItem.objects.select_related("order__shop", "product")
            .prefetch_related("cases__refund").filter(pk=item_id, order__consumer=request.user).first())
    if item is None:
        raise Http404
    return item


def _reason_rows(kind: str, open_reasons: list[str], insured: bool) -> list[dict[str, Any]]:
    rows = []
    for reason in open_reasons:
        rows.append({
            "code": reason, "label": Reason(reason).label,
            "freight": presenters.freight_payer_label(policy.freight_payer(kind, reason, insured=insured)),
            "needs_photo": reason in MERCHANT_FAULT_REASONS,
        })
    return rows


def _validate_new_photos(request: AuthedRequest) -> tuple[list[CheckedFile], DomainError | None]:
    try:
        return evidence_validate(request.FILES.getlist("evidence")), None
    except DomainError as exc:
        return [], exc


@login_required
@throttled(CaseCreateThrottle)
def case_new(request: AuthedRequest, item_id: int) -> HttpResponse:
    item = _item_for(request, item_id)
    now = timezone.now()
    view = item_view(item, now)
    ledger = policy.item_ledger(item, view["cases"])
    units = max(item.quantity - ledger.units_used, 0)
    kind = request.POST.get("kind") or request.GET.get("kind") or ""
    kinds = {k["kind"]: k for k in view["kinds"]}
    chosen = kinds.get(kind)
    context: dict[str, Any] = {"item": item, "order": item.order, "view": view, "kind": kind if chosen else "",
                               "chosen": chosen, "nav": "orders"}
    if chosen is None or not chosen["open"] or units == 0:
        return render(request, "web/case_form.html", context)

    refund_kind = kind in (Kind.REFUND_ONLY, Kind.RETURN_REFUND)
    claim_by_qty = {q: policy.claimable(item, q, ledger) for q in range(1, units + 1)}
    token = request.POST.get("stash", "")
    stashed = stash.stash_list(request, token, item.pk)
    status = 200
    if request.method == "POST":
        keep = set(request.POST.getlist("keep"))
        kept = [s for s in stashed if s.key in keep]
        form = CaseRequestForm(request.POST, request.FILES, kind=kind, max_quantity=units,
                               keep_choices=[s.key for s in stashed])
        checked, photo_error = _validate_new_photos(request)
        if photo_error is not None:
            form.is_valid()
            form.add_error("evidence", photo_error.detail)
        elif form.is_valid():
            data = form.cleaned_data
            uploads = stash.stash_files(kept) + [ContentFile(c.data, name=c.name) for c in checked]
            amount = data.get("amount")
            try:
                case = services.case_submit(
                    consumer=request.user, order_item_id=item.pk, kind=kind, reason=data["reason"],
                    quantity=data["quantity"], amount=str(amount) if amount is not None else None,
                    description=data["description"], condition_intact=data["condition_intact"],
                    evidence_files=uploads,
                )
            except DomainError as exc:
                if exc.status == 404:
                    raise Http404 from exc
                field = exc.field or FIELD_FOR_CODE.get(exc.code)
                form.add_error(field if field in form.fields else None, exc.detail)
            else:
                stash.stash_drop(request, token)
                messages.success(request, _("售后申请已提交，售后单号 %(n)s") % {"n": case.number})
                return redirect(reverse("web:case", args=[case.pk]))
        if checked or kept or (token and not keep):
            token = stash.stash_save(request, token, item.pk, kept, checked)
            stashed = stash.stash_list(request, token, item.pk)
        status = 400
    else:
        open_reasons = chosen["open"]
        initial_reason = request.GET.get("reason") or (open_reasons[0][0] if len(open_reasons) == 1 else None)
        form = CaseRequestForm(kind=kind, max_quantity=units, initial={
            "kind": kind, "quantity": units, "amount": claim_by_qty[units] if refund_kind else None,
            "reason": initial_reason, "description": request.GET.get("description", "")[:2000],
        })
    describe_errors(form)
    selected_reason = form["reason"].value() or ""
    open_codes = [code for code, _label in chosen["open"]]
    reasons = _reason_rows(kind, open_codes, item.order.return_shipping_insurance)
    context.update({
        "form": form, "units": units, "refund_kind": refund_kind, "reasons": reasons,
        "selected_reason": selected_reason, "stash_token": token if stashed else "", "stashed": stashed,
        "claim_by_qty": {str(q): str(v) for q, v in claim_by_qty.items()},
        "no_reason_open": Reason.NO_REASON in open_codes,
        "freight_now": next((r["freight"] for r in reasons if r["code"] == selected_reason), ""),
        "photo_reasons": " ".join(r for r in open_codes if r in MERCHANT_FAULT_REASONS),
        "error_summary": error_summary(form),
        "canonical_url": f"{request.path}?kind={kind}",
    })
    return render(request, "web/case_form.html", context, status=status)


@login_required
def stash_file(request: AuthedRequest, item_id: int, token: str, key: str) -> HttpResponseBase:
    """A parked photo, shown back to the shopper who uploaded it (session-bound) as a preview."""
    item = _item_for(request, item_id)
    for stashed in stash.stash_list(request, token, item.pk):
        if stashed.key == key:
            response = FileResponse(stashed.path.open("rb"), content_type=stashed.content_type)
            response["X-Content-Type-Options"] = "nosniff"
            response["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; sandbox"
            response["Cache-Control"] = "private, no-store"
            return response
    raise Http404
