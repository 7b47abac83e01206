"""Forms of the staff workspace. They only shape input; the services validate the domain rules."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from portal.models import User

from ..choices import DeadlineName
from ..models import DeadlinePolicy


class RulingForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("裁决结果"),
        choices=[("refund", _("支持消费者：退款")), ("reject", _("支持商家：驳回申请"))],
        widget=forms.RadioSelect,
    )
    amount = forms.DecimalField(label=_("退款金额（元）"), required=False, min_value=Decimal("0.01"),
                                max_digits=12, decimal_places=2)
    require_return = forms.BooleanField(label=_("须先退货，商家确认收货后退款"), required=False)
    rationale = forms.CharField(label=_("裁决理由"), max_length=4000,
                                widget=forms.Textarea(attrs={"rows": 4}))
    compensation_points = forms.IntegerField(label=_("补偿积分（可选）"), required=False, min_value=0,
                                             max_value=10_000_000)

    def __init__(self, *args: Any, claimable: Decimal | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if claimable is not None:
            self.fields["amount"].widget.attrs["max"] = str(claimable)
            self.fields["amount"].help_text = _("最多 ¥%(max)s") % {"max": claimable}

    def clean(self) -> dict[str, Any]:
        super().clean()  # answers self.cleaned_data
        data = self.cleaned_data
        if data.get("decision") == "refund" and data.get("amount") is None and "amount" not in self.errors:
            self.add_error("amount", _("请填写退款金额"))
        return data


class MessageForm(forms.Form):
    body = forms.CharField(label=_("内容"), max_length=5000, widget=forms.Textarea(attrs={"rows": 3}))
    internal = forms.BooleanField(label=_("内部备注（双方不可见）"), required=False)


class NoteForm(forms.Form):
    """An optional note that goes with intervene (kept in the event's payload)."""

    note = forms.CharField(label=_("介入说明"), max_length=2000, required=False)


class AssignForm(forms.Form):
    assignee = forms.ModelChoiceField(label=_("处理人"), queryset=User.objects.none(), required=False,
                                      empty_label=_("（不分配）"))

    def __init__(self, *args: Any, staff: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if staff is not None:
            cast(forms.ModelChoiceField, self.fields["assignee"]).queryset = staff


MERCHANT_RESPONSE_VARIANTS = [("not_shipped", _("未发货（not_shipped）")),
                              ("refund_only", _("其他仅退款（refund_only）")),
                              ("other", _("其他类型（other）"))]


class DeadlinePolicyForm(forms.ModelForm):
    """Durations in hours for people; stored in seconds. A new row only governs clocks started after
    its effective time, so it can never rewrite a running clock."""

    hours = forms.DecimalField(label=_("时长（小时）"), min_value=Decimal("0.01"), max_digits=8, decimal_places=2)

    class Meta:
        model = DeadlinePolicy
        fields = ["name", "variant", "effective_from"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["variant"].widget = forms.Select(choices=[("", _("（全部）")), *MERCHANT_RESPONSE_VARIANTS])
        self.fields["variant"].help_text = _("仅“商家处理时限”区分：未发货 24 小时、其他仅退款 48 小时、其他类型 5 天")
        if self.instance.pk:
            self.fields["hours"].initial = Decimal(self.instance.seconds) / 3600

    def clean(self) -> dict[str, Any]:
        super().clean()  # answers self.cleaned_data
        data = self.cleaned_data
        if data.get("variant") and data.get("name") != DeadlineName.MERCHANT_RESPONSE:
            self.add_error("variant", _("只有“商家处理时限”有细分"))
        return data

    def save(self, commit: bool = True) -> DeadlinePolicy:
        self.instance.seconds = int(self.cleaned_data["hours"] * 3600)
        return super().save(commit=commit)
