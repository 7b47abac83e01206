"""Forms of the merchant desk: they only check shape; the case services check the domain rules."""

from __future__ import annotations

from datetime import date, timedelta
from typing import cast

from django import forms
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from portal.models import Shop

from .models import RejectReason, ReplyTemplate
from .selectors import Period

# The built-in list every shop can choose from; a shop adds its own (RejectReason rows).
DEFAULT_REJECT_REASONS: list[tuple[str, str | Promise]] = [
    ("goods_used", _("商品已使用，影响二次销售")),
    ("missing_accessories", _("配件、赠品或包装缺失")),
    ("not_our_item", _("退回的商品不是本店发出的")),
    ("beyond_window", _("已超出售后期限")),
    ("no_quality_issue", _("经检测商品无质量问题")),
    ("insufficient_evidence", _("凭证不足，请补充照片")),
    ("amount_incorrect", _("申请金额与实际不符")),
    ("other", _("其他原因")),
]
MAX_PERIOD_DAYS = 366


def reason_choices(shop: Shop, own: list[RejectReason] | None = None) -> list[tuple[str, str]]:
    own_reasons = own if own is not None else list(RejectReason.objects.filter(shop=shop))
    return [(code, str(label)) for code, label in DEFAULT_REJECT_REASONS] + [(r.code, r.label) for r in own_reasons]


class RejectForm(forms.Form):
    """Reject a request or refuse a returned parcel: a listed reason plus the merchant's own words."""

    reason_code = forms.ChoiceField(label=_("拒绝原因"))
    reason = forms.CharField(label=_("说明"), max_length=2000, required=False,
                             widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, choices: list[tuple[str, str]], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["reason_code"]).choices = [("", _("请选择原因")), *choices]
        self._labels = dict(choices)

    def reason_text(self) -> str:
        """The free text when written; the listed reason's label otherwise (the service needs text)."""
        text = self.cleaned_data.get("reason", "").strip()
        label = self._labels.get(self.cleaned_data["reason_code"], "")
        return f"{label}：{text}" if text and label else (text or label)


class ShipForm(forms.Form):
    carrier = forms.CharField(label=_("快递公司"), max_length=64)
    tracking_number = forms.CharField(label=_("运单号"), max_length=64)


class ReplyTemplateForm(forms.ModelForm):
    class Meta:
        model = ReplyTemplate
        fields = ["title", "body"]
        widgets = {"body": forms.Textarea(attrs={"rows": 4})}


class RejectReasonForm(forms.ModelForm):
    class Meta:
        model = RejectReason
        fields = ["code", "label"]


class PeriodForm(forms.Form):
    """The metrics period: whole local days, at most a year; defaults to the last 30 days."""

    start = forms.DateField(label=_("开始日期"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=_("结束日期"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def period(self) -> Period:
        today = timezone.localdate()
        data = self.cleaned_data if self.is_valid() else {}
        end: date = data.get("end") or today
        start: date = data.get("start") or end - timedelta(days=29)
        if start > end:
            start, end = end, start
        if (end - start).days >= MAX_PERIOD_DAYS:
            start = end - timedelta(days=MAX_PERIOD_DAYS - 1)
        return Period(start=start, end=end)
