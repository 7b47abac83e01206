"""The staff side of service quality: thresholds (supervisors edit, every change logged), ratings (staff hide an
abusive comment, audited on the case), and the log of consequences."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from portal.errors import DomainError
from portal.models import User

from ..admin.base import ReadOnlyAdmin, SettingsAdmin, StaffViewMixin
from .consequences import settings_changed
from .models import BuyerStanding, CaseRating, QualityEvent, QualitySetting, ShopStanding
from .ratings import rating_hide_comment


def _staff(request: HttpRequest) -> User:
    """The signed-in staff member (the admin only lets active staff in)."""
    assert isinstance(request.user, User)
    return request.user


SETTING_FIELDS = ["dispute_rate_threshold", "first_response_hours_threshold", "serial_returner_refund_rate",
                  "trusted_refund_rate", "courier_on_time_threshold"]


class QualitySettingForm(forms.ModelForm):
    class Meta:
        model = QualitySetting
        fields = SETTING_FIELDS
        help_texts = {
            "dispute_rate_threshold": _("近 30 天纠纷率高于此值（且付款订单商品不少于 100 件）的店铺：小额仅退款提交即退"),
            "first_response_hours_threshold": _("近 30 天平均首次响应时长高于此值的店铺在工作台收到预警"),
            "serial_returner_refund_rate": _("近 90 天订单不少于 10 笔、退款率高于此值的买家提示给客服"),
            "courier_on_time_threshold": _("近 30 天准时取件率低于此值的快递公司（按地区）在后台概览标出"),
            "trusted_refund_rate": _("近 90 天无拒收、无败诉、订单不少于 10 笔且退款率不高于此值的买家，极速退款额度为 5 倍"),
        }

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for name in ("dispute_rate_threshold", "serial_returner_refund_rate", "trusted_refund_rate",
                     "courier_on_time_threshold"):
            value = data.get(name)
            if value is not None and not 0 <= value <= 1:
                self.add_error(name, _("须在 0 到 1 之间"))
        hours = data.get("first_response_hours_threshold")
        if hours is not None and hours <= 0:
            self.add_error("first_response_hours_threshold", _("须大于 0"))
        return data


@admin.register(QualitySetting)
class QualitySettingAdmin(SettingsAdmin):
    """One row; every change is logged (QualityEvent `settings_changed`) with the old and new values."""

    form = QualitySettingForm
    list_display = ["__str__", *SETTING_FIELDS]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return super().has_add_permission(request) and not QualitySetting.objects.exists()

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: QualitySetting, form: Any, change: bool) -> None:
        before = {f: getattr(QualitySetting.current(), f) for f in SETTING_FIELDS}
        super().save_model(request, obj, form, change)
        settings_changed(actor=_staff(request), before=before, after={f: getattr(obj, f) for f in SETTING_FIELDS})

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        row = QualitySetting.objects.order_by("pk").first()
        if row is not None:
            return HttpResponseRedirect(reverse("admin:quality_qualitysetting_change", args=[row.pk]))
        if self.has_add_permission(request):
            return HttpResponseRedirect(reverse("admin:quality_qualitysetting_add"))
        return super().changelist_view(request, extra_context)


@admin.register(CaseRating)
class CaseRatingAdmin(StaffViewMixin, admin.ModelAdmin):
    list_display = ["case", "shop", "stars", "pickup_stars", "comment_hidden", "created_at"]
    list_filter = ["stars", "comment_hidden"]
    search_fields = ["case__number", "shop__code"]
    actions = ["hide_comments"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_actions(self, request: HttpRequest) -> dict:
        actions = super().get_actions(request)
        if not getattr(request.user, "is_platform_staff", False):
            actions.pop("hide_comments", None)
        return actions

    @admin.action(description=_("隐藏所选评价的内容（不当言论）"))
    def hide_comments(self, request: HttpRequest, queryset: QuerySet[CaseRating]) -> None:
        for rating in queryset:
            try:
                rating_hide_comment(case_id=rating.case_id, staff=_staff(request), reason="不当言论（后台批量隐藏）")
            except DomainError as exc:
                messages.error(request, exc.detail)
        messages.success(request, _("已隐藏所选评价的内容"))


@admin.register(QualityEvent)
class QualityEventAdmin(ReadOnlyAdmin):
    list_display = ["at", "kind", "shop", "consumer", "actor"]
    list_filter = ["kind"]


@admin.register(ShopStanding)
class ShopStandingAdmin(ReadOnlyAdmin):
    list_display = ["shop", "over_dispute_threshold", "over_dispute_since", "response_warned", "evaluated_at"]


@admin.register(BuyerStanding)
class BuyerStandingAdmin(ReadOnlyAdmin):
    list_display = ["consumer", "serial_returner", "flagged_at", "evaluated_at"]
    list_filter = ["serial_returner"]
