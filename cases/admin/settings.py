"""Platform settings: holidays, deadline durations, the fast-refund limit (supervisors edit)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .. import policy
from ..choices import DeadlineName, Kind
from ..deadlines import recompute_for_holidays
from ..models import (
    DeadlinePolicy,
    Holiday,
    PlatformSetting,
)
from ..staff.forms import DeadlinePolicyForm
from .base import SettingsAdmin


class HolidayForm(forms.ModelForm):
    class Meta:
        model = Holiday
        fields = ["name", "start_date", "end_date"]
        labels = {"name": _("名称"), "start_date": _("开始日期（含）"), "end_date": _("结束日期（含）")}
        help_texts = {"start_date": _("上海时间自然日；保存后所有进行中的计时按重叠时长顺延")}

    def clean(self) -> dict[str, Any]:
        super().clean()  # answers self.cleaned_data
        data = self.cleaned_data
        start, end = data.get("start_date"), data.get("end_date")
        if start and end and end < start:
            self.add_error("end_date", _("结束日期不能早于开始日期"))
        if start and end and (end - start).days > 60:
            self.add_error("end_date", _("一次假期不能超过 60 天"))
        return data


@admin.register(Holiday)
class HolidayAdmin(SettingsAdmin):
    """Every running clock pauses over a holiday: saving or deleting one moves their due times now."""

    form = HolidayForm
    list_display = ["name_col", "start_col", "end_col", "days"]
    date_hierarchy = "start_date"

    @admin.display(description=_("名称"), ordering="name")
    def name_col(self, obj: Holiday) -> str:
        return obj.name

    @admin.display(description=_("开始日期"), ordering="start_date")
    def start_col(self, obj: Holiday) -> Any:
        return obj.start_date

    @admin.display(description=_("结束日期"), ordering="end_date")
    def end_col(self, obj: Holiday) -> Any:
        return obj.end_date

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        extra_context = {**(extra_context or {}), "title": gettext("平台节假日（暂停所有进行中的计时）")}
        return super().changelist_view(request, extra_context)

    @admin.display(description=_("天数"))
    def days(self, obj: Holiday) -> int:
        return (obj.end_date - obj.start_date).days + 1

    def _recompute(self, request: HttpRequest, previous: list[Holiday]) -> None:
        moved = recompute_for_holidays(previous=previous)
        self.message_user(request, gettext("已重新计算进行中的时限：%(n)s 个截止时间已顺延或调整") % {"n": moved},
                          messages.INFO)

    def save_model(self, request: HttpRequest, obj: Holiday, form: Any, change: bool) -> None:
        previous = list(Holiday.objects.all())
        super().save_model(request, obj, form, change)
        self._recompute(request, previous)

    def delete_model(self, request: HttpRequest, obj: Holiday) -> None:
        previous = list(Holiday.objects.all())
        super().delete_model(request, obj)
        self._recompute(request, previous)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet) -> None:
        previous = list(Holiday.objects.all())
        super().delete_queryset(request, queryset)
        self._recompute(request, previous)


@admin.register(DeadlinePolicy)
class DeadlinePolicyAdmin(SettingsAdmin):
    """A duration takes effect for clocks started after its time; a row in force is history, not edited."""

    form = DeadlinePolicyForm
    list_display = ["name", "variant", "duration", "effective_from", "status"]
    list_filter = ["name"]
    change_list_template = "admin/cases/deadlinepolicy/change_list.html"

    @admin.display(description=_("时长"))
    def duration(self, obj: DeadlinePolicy) -> str:
        return human_duration(obj.seconds)

    @admin.display(description=_("状态"))
    def status(self, obj: DeadlinePolicy) -> str:
        return gettext("待生效") if obj.effective_from > timezone.now() else gettext("已生效")

    def has_change_permission(self, request: HttpRequest, obj: DeadlinePolicy | None = None) -> bool:
        if obj is not None and obj.effective_from <= timezone.now():
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: DeadlinePolicy | None = None) -> bool:
        if obj is not None and obj.effective_from <= timezone.now():
            return False
        return super().has_delete_permission(request, obj)

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        form = super().get_form(request, obj, change, **kwargs)
        return _no_backdating(form)

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        extra_context = {**(extra_context or {}), "durations_in_force": durations_in_force()}
        return super().changelist_view(request, extra_context)


def _no_backdating(form_class: type[forms.ModelForm]) -> type[forms.ModelForm]:
    class Form(form_class):  # type: ignore[misc,valid-type]  # a form class chosen at run time
        def clean_effective_from(self) -> Any:
            value = self.cleaned_data.get("effective_from")
            if value is not None and value < timezone.now() - timedelta(minutes=5):
                raise forms.ValidationError(gettext("生效时间不能早于现在：新时长只用于之后开始的计时"))
            return value

    return Form


def human_duration(seconds: int) -> str:
    days, rest = divmod(int(seconds), 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    parts = []
    if days:
        parts.append(gettext("%(n)s 天") % {"n": days})
    if hours:
        parts.append(gettext("%(n)s 小时") % {"n": hours})
    if minutes or not parts:
        parts.append(gettext("%(n)s 分钟") % {"n": minutes})
    return " ".join(parts)


def durations_in_force() -> list[dict[str, Any]]:
    """What a clock started now would get, per deadline and variant (defaults, policy rows, override)."""
    rows = []
    for name, label in DeadlineName.choices:
        variants = [("not_shipped", Kind.REFUND_ONLY, "not_shipped"), ("refund_only", Kind.REFUND_ONLY, "other"),
                    ("other", Kind.RETURN_REFUND, "other")] if name == DeadlineName.MERCHANT_RESPONSE else [
                        ("", "", "")]
        for variant, kind, reason in variants:
            seconds = policy.deadline_seconds(name, kind=kind, reason=reason)
            rows.append({"name": name, "label": label, "variant": variant, "duration": human_duration(seconds),
                         "overridden": name in settings.CASE_DEADLINES_SECONDS})
    return rows


class PlatformSettingForm(forms.ModelForm):
    fast_refund_limit = forms.DecimalField(
        label=_("极速退款额度（元）"), min_value=Decimal("0.00"), max_digits=12, decimal_places=2,
        help_text=_("信用良好的买家、退款金额不超过此额度时，寄出退货即退款；0 表示关闭极速退款"),
    )

    class Meta:
        model = PlatformSetting
        fields = ["fast_refund_limit"]


@admin.register(PlatformSetting)
class PlatformSettingAdmin(SettingsAdmin):
    """One row; the list goes straight to it."""

    form = PlatformSettingForm
    list_display = ["__str__", "fast_refund_limit"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return super().has_add_permission(request) and not PlatformSetting.objects.exists()

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        row = PlatformSetting.objects.order_by("pk").first()
        if row is not None:
            return HttpResponseRedirect(reverse("admin:cases_platformsetting_change", args=[row.pk]))
        if self.has_add_permission(request):
            return HttpResponseRedirect(reverse("admin:cases_platformsetting_add"))
        return super().changelist_view(request, extra_context)
