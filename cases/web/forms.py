"""Forms of the shopper's pages. They only shape input; the services decide and explain refusals."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from cases.choices import Kind, Reason
from cases.policy import REASONS_FOR_KIND


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several photos in one input; the content checks are cases.evidence's (by bytes, not by name)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": "image/jpeg,image/png,image/webp,application/pdf"}))
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list:
        if isinstance(data, (list, tuple)):
            return [super(MultipleFileField, self).clean(d, initial) for d in data if d]
        return [super().clean(data, initial)] if data else []


class CaseRequestForm(forms.Form):
    """The guided request: kind → reason → quantity and amount → description → photos → declaration."""

    kind = forms.ChoiceField(choices=Kind.choices, widget=forms.HiddenInput)
    reason = forms.ChoiceField(label=_("售后原因"), choices=Reason.choices, widget=forms.RadioSelect,
                               error_messages={"required": _("请选择售后原因")})
    quantity = forms.IntegerField(label=_("申请数量"), min_value=1)
    amount = forms.DecimalField(label=_("退款金额（元）"), required=False, min_value=Decimal("0.01"),
                                max_digits=12, decimal_places=2)
    description = forms.CharField(label=_("问题描述"), required=False, max_length=2000,
                                  widget=forms.Textarea(attrs={"rows": 4}))
    evidence = MultipleFileField(label=_("上传照片"), required=False)
    condition_intact = forms.BooleanField(label=_("我确认商品完好、配件齐全、不影响二次销售"), required=False)
    stash = forms.CharField(required=False, widget=forms.HiddenInput)
    keep = forms.MultipleChoiceField(required=False, choices=())

    def __init__(self, *args: Any, kind: str, max_quantity: int, keep_choices: list[str] | None = None,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["reason"]).choices = [(r, Reason(r).label) for r in REASONS_FOR_KIND.get(kind, ())]
        cast(forms.IntegerField, self.fields["quantity"]).max_value = max_quantity
        self.fields["quantity"].widget.attrs.update({"max": max_quantity, "min": 1, "inputmode": "numeric"})
        self.fields["amount"].widget.attrs.update({"inputmode": "decimal", "step": "0.01", "min": "0.01"})
        cast(forms.ChoiceField, self.fields["keep"]).choices = [(k, k) for k in (keep_choices or [])]
        if kind in (Kind.EXCHANGE, Kind.REPAIR):
            del self.fields["amount"]


class ReviseForm(forms.Form):
    amount = forms.DecimalField(label=_("退款金额（元）"), required=False, min_value=Decimal("0.01"),
                                max_digits=12, decimal_places=2)
    reason = forms.ChoiceField(label=_("售后原因"), required=False, choices=())
    description = forms.CharField(label=_("补充说明"), required=False, max_length=2000,
                                  widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args: Any, kind: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["reason"]).choices = [(r, Reason(r).label) for r in REASONS_FOR_KIND.get(kind, ())]
        if kind in (Kind.EXCHANGE, Kind.REPAIR):
            del self.fields["amount"]


class EscalateForm(forms.Form):
    statement = forms.CharField(label=_("您的陈述"), max_length=4000, widget=forms.Textarea(attrs={"rows": 4}),
                                error_messages={"required": _("请说明您申请平台介入的理由")})


class AppealForm(forms.Form):
    statement = forms.CharField(label=_("申诉理由"), max_length=4000, widget=forms.Textarea(attrs={"rows": 4}),
                                error_messages={"required": _("请说明您申诉的理由")})


class VisitForm(forms.Form):
    """docs/visits.md: one of the open visit slots (the page lists them)."""

    slot = forms.IntegerField(label=_("上门时段"), min_value=1, error_messages={"required": _("请选择上门时段")})


class ShipReturnForm(forms.Form):
    carrier = forms.CharField(label=_("快递公司"), max_length=64)
    tracking_number = forms.CharField(label=_("运单号"), max_length=64)


class MessageForm(forms.Form):
    body = forms.CharField(label=_("留言"), max_length=5000, widget=forms.Textarea(attrs={"rows": 3}),
                           error_messages={"required": _("请输入留言内容")})


class EvidenceForm(forms.Form):
    files = MultipleFileField(  # type: ignore[assignment]  # a form field named like BaseForm.files (the metaclass moves it to base_fields)
        label=_("补充凭证"), error_messages={"required": _("请选择要上传的文件")})
    note = forms.CharField(label=_("说明（可选）"), required=False, max_length=500)
