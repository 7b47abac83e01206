"""The arbitration queue and the case review (the ruling and the rest run through cases.staff.views)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin import SimpleListFilter
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from portal.http import user_of

from .. import policy
from ..choices import State
from ..models import (
    AfterSalesCase,
)
from ..services import CaseError
from ..staff import selectors
from ..staff import views as staff_views
from ..staff.services import case_assign
from .base import ReadOnlyAdmin


def titled(filter_class: type, title: Any) -> type:
    """A field filter under our own (translated) title; the models carry no verbose names yet."""

    class Titled(filter_class):
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
            return queryset.filter(assignee=user_of(request))
        if value == "none":
            return queryset.filter(assignee__isnull=True)
        if value and value.isdigit():
            return queryset.filter(assignee_id=int(value))
        return queryset


class OverdueFilter(SimpleListFilter):
    title = _("裁决超时")
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
        return user_of(request).has_perm("cases.reassign_case")

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
        self._assign(request, queryset, user_of(request))

    @admin.action(description=_("取消分配（主管）"), permissions=["reassign"])
    def unassign(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._assign(request, queryset, None)

    def _assign(self, request: HttpRequest, queryset: QuerySet, assignee: Any) -> None:
        done, refused = 0, []
        for case_id, number in queryset.values_list("pk", "number"):
            try:
                case = case_assign(case_id=case_id, actor=user_of(request), assignee=assignee)
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
        extra_context = {**(extra_context or {}), "counts": selectors.team_counts(user_of(request)),
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
            path("<int:case_id>/decide-appeal/", bind(staff_views.case_decide_appeal),
                 name="cases_aftersalescase_decide_appeal"),
            path("<int:case_id>/intervene/", bind(staff_views.case_intervene),
                 name="cases_aftersalescase_intervene"),
            path("<int:case_id>/close-evidence/", bind(staff_views.case_close_evidence),
                 name="cases_aftersalescase_close_evidence"),
            path("<int:case_id>/message/", bind(staff_views.case_message), name="cases_aftersalescase_message"),
            path("<int:case_id>/assign/", bind(staff_views.case_assign_view), name="cases_aftersalescase_assign"),
        ]
        return ours + super().get_urls()
