"""Records only services write: events, refunds, evidence, messages, deadlines (read-only here)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.admin import SimpleListFilter
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .. import policy
from ..choices import Action
from ..models import (
    CaseEvent,
    CaseEvidence,
    CaseMessage,
    Deadline,
    PlatformAdvance,
    Refund,
    RefundPayout,
    ShopNotice,
)
from ..web.presenters import EXTRA_ACTION_LABELS, action_label, event_detail, state_label
from .base import ReadOnlyAdmin


class EventActionFilter(SimpleListFilter):
    title = _("操作")
    parameter_name = "action"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(value, action_label(value)) for value in [*Action.values, *EXTRA_ACTION_LABELS]]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.filter(action=self.value()) if self.value() else queryset


@admin.register(CaseEvent)
class CaseEventAdmin(ReadOnlyAdmin):
    list_display = ["case", "at", "actor_username", "role", "action_name", "from_name", "to_name"]
    list_filter = [EventActionFilter, "role"]
    search_fields = ["case__number", "actor_username"]
    list_select_related = ["case"]
    fields = ["case", "at", "actor_username", "role", "action_name", "from_name", "to_name", "details"]
    readonly_fields = ["case", "at", "actor_username", "role", "action_name", "from_name", "to_name", "details"]

    @admin.display(description=_("操作"), ordering="action")
    def action_name(self, obj: CaseEvent) -> str:
        return action_label(obj.action)

    @admin.display(description=_("原状态"))
    def from_name(self, obj: CaseEvent) -> str:
        return state_label(obj.from_state) if obj.from_state else "—"

    @admin.display(description=_("新状态"))
    def to_name(self, obj: CaseEvent) -> str:
        return state_label(obj.to_state)

    @admin.display(description=_("详情"))
    def details(self, obj: CaseEvent) -> str:
        return event_detail(obj) or "—"


class RefundPayoutInline(admin.TabularInline):
    """Each transfer of the refund (the first, and further payouts of a raised amount)."""

    model = RefundPayout
    extra = 0
    can_delete = False
    fields = ["amount", "fast", "status", "idempotency_key", "provider_reference", "created_at",
              "paid_at"]
    readonly_fields = ["amount", "fast", "status", "idempotency_key", "provider_reference", "created_at",
                       "paid_at"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Refund)
class RefundAdmin(ReadOnlyAdmin):
    list_display = ["case", "amount", "status", "fast", "attempts", "created_at", "paid_at", "last_error"]
    list_filter = ["status", "fast"]
    search_fields = ["case__number", "idempotency_key", "provider_reference"]
    list_select_related = ["case"]
    readonly_fields = [f.name for f in Refund._meta.fields]
    inlines = [RefundPayoutInline]


@admin.register(PlatformAdvance)
class PlatformAdvanceAdmin(ReadOnlyAdmin):
    """先行垫付: what the platform bears for cases decided for the merchant after the consumer was paid."""

    list_display = ["case", "amount", "reason", "created_at"]
    search_fields = ["case__number"]
    list_select_related = ["case"]
    readonly_fields = [f.name for f in PlatformAdvance._meta.fields]


@admin.register(CaseEvidence)
class CaseEvidenceAdmin(ReadOnlyAdmin):
    list_display = ["case", "role", "original_name", "content_type", "size", "created_at", "open_link"]
    list_filter = ["role", "content_type"]
    search_fields = ["case__number", "original_name"]
    list_select_related = ["case"]
    readonly_fields = ["case", "uploaded_by", "role", "original_name", "content_type", "size", "note",
                       "created_at", "open_link"]
    exclude = ["file"]

    @admin.display(description=_("文件"))
    def open_link(self, obj: CaseEvidence) -> str:
        return format_html('<a href="{}" target="_blank" rel="noopener">{}</a>',
                           reverse("api-evidence-file", args=[obj.pk]), gettext("查看"))


@admin.register(CaseMessage)
class CaseMessageAdmin(ReadOnlyAdmin):
    list_display = ["case", "created_at", "author", "role", "internal", "short_body"]
    list_filter = ["internal", "role"]
    search_fields = ["case__number", "body"]
    list_select_related = ["case", "author"]
    readonly_fields = [f.name for f in CaseMessage._meta.fields]

    @admin.display(description=_("内容"))
    def short_body(self, obj: CaseMessage) -> str:
        return obj.body if len(obj.body) <= 60 else obj.body[:60] + "…"


class RunningFilter(SimpleListFilter):
    title = _("计时状态")
    parameter_name = "running"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [("yes", _("进行中")), ("no", _("已触发或已取消"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        running = {"fired_at__isnull": True, "cancelled_at__isnull": True}
        if self.value() == "yes":
            return queryset.filter(**running)
        if self.value() == "no":
            return queryset.exclude(**running)
        return queryset


@admin.register(Deadline)
class DeadlineAdmin(ReadOnlyAdmin):
    list_display = ["case", "name_col", "state", "started_at", "due_col", "remind_at", "fired_at", "cancelled_at"]
    list_filter = [RunningFilter, "name", "state"]

    @admin.display(description=_("时限"), ordering="name")
    def name_col(self, obj: Deadline) -> str:
        return obj.get_name_display()

    @admin.display(description=_("截止时间"), ordering="due_at")
    def due_col(self, obj: Deadline) -> str:
        return timezone.localtime(obj.due_at, policy.SHANGHAI).strftime("%Y-%m-%d %H:%M")
    search_fields = ["case__number"]
    list_select_related = ["case"]
    readonly_fields = [f.name for f in Deadline._meta.fields]


@admin.register(ShopNotice)
class ShopNoticeAdmin(ReadOnlyAdmin):
    """docs/shop-notices.md: the notices owed to shop systems ("don't ship"), and whether each was delivered."""

    list_display = ["case", "shop", "kind", "attempts", "last_error", "created_at", "delivered_at"]
    list_filter = ["kind", ("delivered_at", admin.EmptyFieldListFilter)]
    search_fields = ["case__number", "idempotency_key"]
    list_select_related = ["case", "shop"]
    readonly_fields = [f.name for f in ShopNotice._meta.fields]
