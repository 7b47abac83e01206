"""The staff workspace in the Django admin: the arbitration queue, read-only records, platform settings.

The admin never writes a case, an event or a refund itself: `state` and everything else on those
models is read-only here, and each change goes through `cases.services` (see `cases/staff/views.py`).
Who sees what follows the platform's groups (agents, supervisors), not Django's per-model permissions:
every platform staff member may look; ruling needs `rule_case`, reassigning `reassign_case`, editing
settings `edit_platform_settings`.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import SimpleListFilter
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from . import policy
from .choices import DeadlineName, Kind, State
from .deadlines import recompute_for_holidays
from .models import (
    AfterSalesCase,
    CaseEvent,
    CaseEvidence,
    CaseMessage,
    Deadline,
    DeadlinePolicy,
    Holiday,
    PlatformSetting,
    Refund,
)
from .services import CaseError
from .staff import selectors
from .staff import views as staff_views
from .staff.forms import DeadlinePolicyForm
from .staff.services import case_assign


class StaffViewMixin:
    """Platform staff may look at everything in the workspace, whatever their per-model permissions."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.is_platform_staff

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.is_platform_staff


class ReadOnlyAdmin(StaffViewMixin, admin.ModelAdmin):
    """Records that only services write: no add, no change, no delete, for anyone (superusers too)."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class SettingsAdmin(StaffViewMixin, admin.ModelAdmin):
    """Platform settings: every staff member reads them, supervisors (`edit_platform_settings`) edit."""

    def _may_edit(self, request: HttpRequest) -> bool:
        return request.user.is_platform_staff and request.user.has_perm("cases.edit_platform_settings")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self._may_edit(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._may_edit(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._may_edit(request)


# --- the arbitration queue ------------------------------------------------------------------

def titled(filter_class: type, title: Any) -> type:
    """A field filter under our own (translated) title; the models carry no verbose names yet."""

    class Titled(filter_class):  # type: ignore[misc,valid-type]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.title = title

    return Titled


class QueueFilter(SimpleListFilter):
    """Opens on the arbitration queue; every other state (and all cases) one click away."""

    title = _("状态")
    parameter_name = "state"
    default = "arbitration"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [
            ("arbitration", _("仲裁队列（平台介入中 + 待裁决）")),
            ("open", _("全部未结案")),
            ("all", _("全部售后单")),
            *State.choices,
        ]

    def choices(self, changelist: Any) -> Any:
        current = self.value() or self.default
        for value, label in self.lookup_choices:
            yield {
                "selected": current == value,
                "query_string": changelist.get_query_string({self.parameter_name: value}),
                "display": label,
            }

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        value = self.value() or self.default
        if value == "arbitration":
            return queryset.filter(state__in=selectors.ARBITRATION_STATES)
        if value == "open":
            return queryset.filter(state__in=selectors.OPEN_STATES)
        if value in State.values:
            return queryset.filter(state=value)
        return queryset


class AmountFilter(SimpleListFilter):
    title = _("申请金额")
    parameter_name = "amount_range"
    RANGES = {
        "lt100": (None, Decimal("100")),
        "100-500": (Decimal("100"), Decimal("500")),
        "500-2000": (Decimal("500"), Decimal("2000")),
        "gte2000": (Decimal("2000"), None),
    }

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [("lt100", _("100 元以下")), ("100-500", _("100–500 元")), ("500-2000", _("500–2000 元")),
                ("gte2000", _("2000 元及以上"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        bounds = self.RANGES.get(self.value() or "")
        if bounds is None:
            return queryset
        low, high = bounds
        if low is not None:
            queryset = queryset.filter(amount__gte=low)
        if high is not None:
            queryset = queryset.filter(amount__lt=high)
        return queryset


class AssigneeFilter(SimpleListFilter):
    title = _("处理人")
    parameter_name = "assignee"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        staff = [(str(u.pk), u.username) for u in selectors.staff_users()]
        return [("me", _("我的")), ("none", _("未分配")), *staff]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        value = self.value()
        if value == "me":
            return queryset.filter(assignee=request.user)
        if value == "none":
            return queryset.filter(assignee__isnull=True)
        if value and value.isdigit():
            return queryset.filter(assignee_id=int(value))
        return queryset


class OverdueFilter(SimpleListFilter):
    title = _("裁决超时（ruling_sla）")
    parameter_name = "overdue"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [("yes", _("已超时")), ("no", _("未超时"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() == "yes":
            return queryset.filter(overdue=True)
        if self.value() == "no":
            return queryset.filter(overdue=False)
        return queryset


@admin.register(AfterSalesCase)
class AfterSalesCaseAdmin(ReadOnlyAdmin):
    """The queue. Opening a case goes to its review page, where the services do the work."""

    list_display = ["number_link", "state_badge", "kind_col", "reason_col", "shop_col", "consumer_col", "amount_col",
                    "created_col", "deadline_col", "overdue_col", "assignee_col"]
    list_display_links = None
    list_filter = [QueueFilter, OverdueFilter, AssigneeFilter,
                   ("shop", titled(admin.RelatedOnlyFieldListFilter, _("店铺"))),
                   ("kind", titled(admin.ChoicesFieldListFilter, _("类型"))),
                   ("reason", titled(admin.ChoicesFieldListFilter, _("原因"))), AmountFilter,
                   ("escalated", titled(admin.BooleanFieldListFilter, _("平台已介入")))]
    search_fields = ["number", "order_item__order__number", "consumer__username", "shop__code", "shop__name"]
    list_select_related = ["shop", "consumer", "assignee"]
    list_per_page = 50
    actions = ["assign_to_me", "unassign"]
    readonly_fields = [f.name for f in AfterSalesCase._meta.fields]
    change_list_template = "admin/cases/aftersalescase/change_list.html"

    def get_ordering(self, request: HttpRequest) -> list[Any]:
        return selectors.queue_ordering()

    def has_reassign_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("cases.reassign_case")

    @admin.display(description=_("售后单号"), ordering="number")
    def number_link(self, obj: AfterSalesCase) -> str:
        url = reverse("admin:cases_aftersalescase_review", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, obj.number)

    @admin.display(description=_("状态"), ordering="state")
    def state_badge(self, obj: AfterSalesCase) -> str:
        return format_html('<span class="sh-badge sh-state-{}">{}</span>', obj.state, obj.get_state_display())

    @admin.display(description=_("类型"), ordering="kind")
    def kind_col(self, obj: AfterSalesCase) -> str:
        return obj.get_kind_display()

    @admin.display(description=_("原因"), ordering="reason")
    def reason_col(self, obj: AfterSalesCase) -> str:
        return obj.get_reason_display()

    @admin.display(description=_("店铺"), ordering="shop__code")
    def shop_col(self, obj: AfterSalesCase) -> str:
        return format_html('<a href="{}">{}</a>', reverse("admin:cases_shop", args=[obj.shop.code]), obj.shop.name)

    @admin.display(description=_("买家"), ordering="consumer__username")
    def consumer_col(self, obj: AfterSalesCase) -> str:
        return obj.consumer.username

    @admin.display(description=_("金额"), ordering="amount")
    def amount_col(self, obj: AfterSalesCase) -> str:
        return f"¥{obj.amount}"

    @admin.display(description=_("申请时间"), ordering="created_at")
    def created_col(self, obj: AfterSalesCase) -> str:
        return timezone.localtime(obj.created_at, policy.SHANGHAI).strftime("%Y-%m-%d %H:%M")

    @admin.display(description=_("当前时限"), ordering="deadline_due_at")
    def deadline_col(self, obj: AfterSalesCase) -> str:
        if not obj.deadline_due_at:
            return "—"
        due = timezone.localtime(obj.deadline_due_at, policy.SHANGHAI).strftime("%m-%d %H:%M")
        return format_html('{}<br><span class="sh-muted">{}</span>', due, obj.get_deadline_name_display())

    @admin.display(description=_("超时"), ordering="overdue")
    def overdue_col(self, obj: AfterSalesCase) -> str:
        if not obj.overdue:
            return ""
        return format_html('<span class="sh-badge sh-badge-danger">{}</span>', gettext("裁决超时"))

    @admin.display(description=_("处理人"), ordering="assignee__username")
    def assignee_col(self, obj: AfterSalesCase) -> str:
        return obj.assignee.username if obj.assignee else "—"

    @admin.action(description=_("分配给我"))
    def assign_to_me(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._assign(request, queryset, request.user)

    @admin.action(description=_("取消分配（主管）"), permissions=["reassign"])
    def unassign(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._assign(request, queryset, None)

    def _assign(self, request: HttpRequest, queryset: QuerySet, assignee: Any) -> None:
        done, refused = 0, []
        for case_id, number in queryset.values_list("pk", "number"):
            try:
                case = case_assign(case_id=case_id, actor=request.user, assignee=assignee)
            except CaseError as exc:
                refused.append(f"{number}: {exc.detail}")
            else:
                done += 1
                self.log_change(request, case, gettext("处理人：%(name)s") % {
                    "name": assignee.username if assignee else "—"})
        if done:
            self.message_user(request, gettext("已更新 %(n)s 个售后单的处理人") % {"n": done}, messages.SUCCESS)
        for line in refused:
            self.message_user(request, line, messages.ERROR)

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        extra_context = {**(extra_context or {}), "counts": selectors.team_counts(request.user),
                         "title": gettext("仲裁队列") if request.GET.get("state", "arbitration") == "arbitration"
                         else gettext("售后单")}
        return super().changelist_view(request, extra_context)

    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "",
                    extra_context: dict | None = None) -> HttpResponse:
        """The raw record view is replaced by the review page; a POST still meets the read-only 403."""
        if request.method == "GET" and str(object_id).isdigit() and self.has_view_permission(request):
            return HttpResponseRedirect(reverse("admin:cases_aftersalescase_review", args=[object_id]))
        return super().change_view(request, object_id, form_url, extra_context)

    def get_urls(self) -> list[URLPattern]:
        wrap = self.admin_site.admin_view

        def bind(view: Any) -> Any:
            return wrap(lambda request, **kw: view(request, self, **kw))

        ours = [
            path("dashboard/", bind(staff_views.dashboard), name="cases_dashboard"),
            path("shop/<slug:code>/", bind(staff_views.shop_page), name="cases_shop"),
            path("<int:case_id>/review/", bind(staff_views.case_review), name="cases_aftersalescase_review"),
            path("<int:case_id>/rule/", bind(staff_views.case_rule), name="cases_aftersalescase_rule"),
            path("<int:case_id>/intervene/", bind(staff_views.case_intervene),
                 name="cases_aftersalescase_intervene"),
            path("<int:case_id>/close-evidence/", bind(staff_views.case_close_evidence),
                 name="cases_aftersalescase_close_evidence"),
            path("<int:case_id>/message/", bind(staff_views.case_message), name="cases_aftersalescase_message"),
            path("<int:case_id>/assign/", bind(staff_views.case_assign_view), name="cases_aftersalescase_assign"),
        ]
        return ours + super().get_urls()


# --- records only services write ------------------------------------------------------------

@admin.register(CaseEvent)
class CaseEventAdmin(ReadOnlyAdmin):
    list_display = ["case", "at", "actor_username", "role", "action", "from_state", "to_state"]
    list_filter = ["action", "role"]
    search_fields = ["case__number", "actor_username"]
    list_select_related = ["case"]
    readonly_fields = [f.name for f in CaseEvent._meta.fields]


@admin.register(Refund)
class RefundAdmin(ReadOnlyAdmin):
    list_display = ["case", "amount", "status", "fast", "attempts", "created_at", "paid_at", "last_error"]
    list_filter = ["status", "fast"]
    search_fields = ["case__number", "idempotency_key", "provider_reference"]
    list_select_related = ["case"]
    readonly_fields = [f.name for f in Refund._meta.fields]


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


# --- platform settings ----------------------------------------------------------------------

class HolidayForm(forms.ModelForm):
    class Meta:
        model = Holiday
        fields = ["name", "start_date", "end_date"]
        labels = {"name": _("名称"), "start_date": _("开始日期（含）"), "end_date": _("结束日期（含）")}
        help_texts = {"start_date": _("上海时间自然日；保存后所有进行中的计时按重叠时长顺延")}

    def clean(self) -> dict[str, Any]:
        data = super().clean()
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
    class Form(form_class):  # type: ignore[misc,valid-type]
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
    from django.conf import settings

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
