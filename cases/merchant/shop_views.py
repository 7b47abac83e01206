"""The merchant desk, shop-wide pages: reply templates and reject reasons, metrics, exports.

Like the case pages (`views.py`), every view resolves the user's shops first; anything outside them is a 404.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.files.storage import default_storage
from django.db.models import Prefetch
from django.http import FileResponse, Http404, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from portal.errors import DomainError
from portal.http import AuthedRequest
from portal.models import Shop

from ..quality.models import ShopStanding
from ..quality.present import scorecard_rows, show
from ..scorecard import shop_scorecard, trend
from . import charts, services
from .forms import PeriodForm, RejectReasonForm, ReplyTemplateForm
from .models import ExportJob, RejectReason, ReplyTemplate
from .selectors import (
    QueueFilters,
    queue_state_counts,
    shop_metrics,
    shops_selected,
)
from .templatetags.merchant_tags import kind_label, reason_label
from .views import _chosen_shops, merchant_required

# --- reply templates and reasons ------------------------------------------------------------------

def _shop_of_post(request: AuthedRequest) -> Shop:
    code = request.POST.get("shop", "")
    shop = next((s for s in request.shops if s.code == code), None)  # type: ignore[attr-defined]  # set by merchant_required
    if shop is None:
        raise Http404
    return shop


@require_http_methods(["GET", "POST"])
@merchant_required
def templates_list(request: AuthedRequest) -> HttpResponse:
    shops = _chosen_shops(request)
    form = ReplyTemplateForm()
    if request.method == "POST":
        shop = _shop_of_post(request)
        form = ReplyTemplateForm(request.POST)
        if form.is_valid():
            try:
                services.reply_template_save(shop=shop, user=request.user, title=form.cleaned_data["title"],
                                             body=form.cleaned_data["body"])
            except DomainError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.detail)
            else:
                messages.success(request, _("模板已保存"))
                return redirect(reverse("merchant:templates") + (f"?shop={shop.code}" if len(shops) == 1 else ""))
    reasons = RejectReason.objects.filter(shop__in=shops).select_related("shop")
    return render(request, "merchant/templates.html", {
        "shops": request.shops, "chosen": shops,  # type: ignore[attr-defined]  # set by merchant_required
        "shop_code": request.GET.get("shop", ""),
        "templates": ReplyTemplate.objects.filter(shop__in=shops).select_related("shop"),
        "form": form, "reason_form": RejectReasonForm(), "reasons": reasons,
        "status": 400 if form.errors else 200,
    }, status=400 if form.errors else 200)


def _template_for(request: AuthedRequest, template_id: int) -> ReplyTemplate:
    template = ReplyTemplate.objects.select_related("shop").filter(
        pk=template_id, shop__in=request.shops).first()  # type: ignore[attr-defined]  # set by merchant_required
    if template is None:
        raise Http404
    return template


@require_http_methods(["GET", "POST"])
@merchant_required
def template_edit(request: AuthedRequest, template_id: int) -> HttpResponse:
    template = _template_for(request, template_id)
    form = ReplyTemplateForm(request.POST or None, instance=template)
    if request.method == "POST" and form.is_valid():
        try:
            services.reply_template_save(shop=template.shop, user=request.user, template=template,
                                         title=form.cleaned_data["title"], body=form.cleaned_data["body"])
        except DomainError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.detail)
        else:
            messages.success(request, _("模板已保存"))
            return redirect("merchant:templates")
    return render(request, "merchant/template_edit.html", {"form": form, "template": template},
                  status=400 if form.errors else 200)


@require_POST
@merchant_required
def template_delete(request: AuthedRequest, template_id: int) -> HttpResponse:
    services.reply_template_delete(template=_template_for(request, template_id))
    messages.success(request, _("模板已删除"))
    return redirect("merchant:templates")


@require_POST
@merchant_required
def reason_add(request: AuthedRequest) -> HttpResponse:
    shop = _shop_of_post(request)
    try:
        services.reject_reason_add(shop=shop, code=request.POST.get("code"), label=request.POST.get("label"))
    except DomainError as exc:
        messages.error(request, exc.detail)
    else:
        messages.success(request, _("拒绝原因已添加"))
    return redirect(reverse("merchant:templates") + "#reasons")


@require_POST
@merchant_required
def reason_delete(request: AuthedRequest, reason_id: int) -> HttpResponse:
    reason = RejectReason.objects.filter(pk=reason_id, shop__in=request.shops).first()  # type: ignore[attr-defined]  # set by merchant_required
    if reason is None:
        raise Http404
    services.reject_reason_delete(reason=reason)
    messages.success(request, _("拒绝原因已删除"))
    return redirect(reverse("merchant:templates") + "#reasons")


# --- metrics -----------------------------------------------------------------------------------

@require_GET
@merchant_required
def metrics(request: AuthedRequest) -> HttpResponse:
    shops = _chosen_shops(request)
    form = PeriodForm({"start": request.GET.get("from", ""), "end": request.GET.get("to", "")})
    period = form.period()
    sections = []
    for shop in shops:
        m = shop_metrics(shop, period)
        card = shop_scorecard(shop).as_json()
        weekly = trend(shop)
        sections.append({
            "m": m,
            "card": card, "card_rows": scorecard_rows(card),
            "standing": ShopStanding.objects.filter(shop=shop).first(),
            "trends": [(label, trend_chart(weekly, attr)) for attr, label in TREND_FIGURES],
            "cases_chart": charts.column_chart([(f"{d:%m-%d}", n) for d, n in m.cases_per_day]),
            "refunds_chart": charts.column_chart([(f"{d:%m-%d}", v) for d, v in m.refunds_per_day]),
            "kind_bars": charts.bar_list([(kind_label(k), n) for k, n in m.by_kind.items()]),
            "reason_bars": charts.bar_list(sorted(((reason_label(r), n) for r, n in m.by_reason.items()),
                                                  key=lambda row: -row[1])),
        })
    return render(request, "merchant/metrics.html", {
        "shops": request.shops, "shop_code": request.GET.get("shop", ""),  # type: ignore[attr-defined]  # set by merchant_required
        "period": period, "sections": sections,
    })


TREND_FIGURES = [
    ("dispute_rate", gettext_lazy("纠纷率（%）")), ("intervention_rate", gettext_lazy("介入率（%）")),
    ("quality_refund_rate", gettext_lazy("品质退款率（%）")), ("refund_hours_mean", gettext_lazy("平均退款时长（小时）")),
    ("first_response_hours", gettext_lazy("首次响应时长（小时）")), ("self_resolved_rate", gettext_lazy("自主完结率（%）")),
    ("rating_mean", gettext_lazy("服务评价（星）")),
]


def trend_chart(weekly: list, figure: str) -> dict:
    """A column chart of one scorecard figure over the weekly 30-day windows, with its rows for the text table."""
    rows = [(f"{hi:%m-%d}", getattr(counts, figure)) for hi, counts in weekly]
    scale = 100 if figure.endswith("_rate") else 1
    chart = charts.column_chart([(label, (value or 0) * scale) for label, value in rows])
    chart["rows"] = [(label, "—" if value is None else show(figure, str(value)) if figure.endswith("_rate")
                      else str(value)) for label, value in rows]
    return chart


# --- exports -----------------------------------------------------------------------------------

def _export_limit() -> int:
    return int(getattr(settings, "MERCHANT_EXPORT_SYNC_LIMIT", 10_000))


@require_http_methods(["GET", "POST"])
@merchant_required
def export(request: AuthedRequest) -> HttpResponseBase:
    """Up to the limit, the CSV streams at once; above it, a background job writes a file."""
    params = request.GET if request.method == "GET" else request.POST
    shops = shops_selected(request.shops, params.get("shop"))  # type: ignore[attr-defined]  # set by merchant_required
    if shops is None:
        raise Http404
    filters = QueueFilters.from_params(params)
    shop_ids = [s.pk for s in shops]
    if request.method == "POST":
        job = services.export_job_create(user=request.user, shops=shops, filters=filters)
        return redirect("merchant:export-job", job_id=job.pk)
    counts = queue_state_counts(shop_ids, filters)
    total = counts[filters.state] if filters.state else sum(counts.values())
    if total > _export_limit():
        return render(request, "merchant/export_confirm.html", {
            "total": total, "limit": _export_limit(), "params": {**filters.as_params(),
                                                                  **({"shop": params["shop"]} if params.get("shop") else {})},
        })
    response = StreamingHttpResponse(services.csv_stream(shop_ids, filters), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="cases-{timezone.localdate():%Y%m%d}.csv"'
    return response


def _job_for(request: AuthedRequest, job_id: int) -> ExportJob:
    """A job is shown only to a member of every shop it covers (a former member loses access)."""
    job = ExportJob.objects.prefetch_related(Prefetch("shops")).filter(pk=job_id).first()
    member_of = {s.pk for s in request.shops}  # type: ignore[attr-defined]  # set by merchant_required
    if job is None or not {s.pk for s in job.shops.all()} <= member_of or not job.shops.all():
        raise Http404
    return job


@require_GET
@merchant_required
def export_job(request: AuthedRequest, job_id: int) -> HttpResponse:
    job = _job_for(request, job_id)
    template = "merchant/_export_progress.html" if request.htmx else "merchant/export_job.html"
    return render(request, template, {"job": job})


@require_GET
@merchant_required
def export_download(request: AuthedRequest, job_id: int) -> HttpResponseBase:
    job = _job_for(request, job_id)
    if job.status != ExportJob.Status.DONE or not job.file or not default_storage.exists(job.file):
        raise Http404
    response = FileResponse(default_storage.open(job.file, "rb"), content_type="text/csv; charset=utf-8",
                            as_attachment=True, filename=job.file.rsplit("/", 1)[-1])
    response["Cache-Control"] = "private, no-store"
    return response
