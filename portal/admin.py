"""Marketplace records in the admin. They come from the shop system (import), so staff mostly look:
platform staff see them; changing them needs Django's own model permissions (superusers, or what a
supervisor is granted). Regions, wallets and tokens are read-only for everyone.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.http import HttpRequest
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from .labels import category_label, region_label, wallet_reason_label
from .models import (
    ApiToken,
    Order,
    OrderItem,
    Product,
    ReferenceRelease,
    Region,
    Shop,
    StatutoryHoliday,
    User,
    Wallet,
    WalletEntry,
)

admin.site.site_header = _("售后平台 · 客服工作台")
admin.site.site_title = _("售后平台管理")
admin.site.index_title = _("平台客服与仲裁")
# The workspace has its own top navigation; the sidebar only took width from the review page.
admin.site.enable_nav_sidebar = False


def _platform_staff(request: HttpRequest) -> bool:
    """Whether the requester is platform staff; a visitor who is not signed in has no role at all."""
    return bool(getattr(request.user, "is_platform_staff", False))


def address_names(region: str, line: str, contact: str, phone: str) -> str:
    """An address as a person reads it: the region's names (广东省 深圳市 南山区), the street line, who and phone;
    "—" when there is none."""
    if not (region or line):
        return "—"
    text = " ".join(part for part in (region_label(region) if region else "", line) if part)
    who = " ".join(part for part in (contact, phone) if part)
    return gettext("%(address)s（%(who)s）") % {"address": text, "who": who} if who else text


class StaffViewMixin:
    """Platform staff (agents, supervisors) may look; writes follow the model permissions."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return _platform_staff(request) or super().has_module_permission(request)  # type: ignore[misc]  # the admin mixins' method resolution

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _platform_staff(request) or super().has_view_permission(request, obj)  # type: ignore[misc]  # the admin mixins' method resolution


class NoWritesMixin:
    """Records only services write: no add, no change, no delete in the admin, for anyone."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReadOnlyMixin(NoWritesMixin, StaffViewMixin):
    pass


@admin.register(User)
class UserAdmin(StaffViewMixin, SimpleHistoryAdmin, DjangoUserAdmin):
    list_display = ["username", "role", "good_standing", "is_staff", "group_names", "email", "date_joined"]
    list_filter = ["role", "good_standing", "is_staff", "groups"]
    search_fields = ["username", "email", "phone"]
    fieldsets = [
        *(DjangoUserAdmin.fieldsets or ()),
        (_("售后平台"), {"fields": ["role", "good_standing", "phone"]}),
    ]
    add_fieldsets = [
        *DjangoUserAdmin.add_fieldsets,
        (_("售后平台"), {"fields": ["role", "good_standing"]}),
    ]

    def get_queryset(self, request: HttpRequest) -> Any:
        return super().get_queryset(request).prefetch_related("groups")

    @admin.display(description=_("组"))
    def group_names(self, obj: User) -> str:
        return ", ".join(g.name for g in obj.groups.all())

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            # Only a superuser makes superusers or hands out raw permissions.
            fields += ["is_superuser", "user_permissions"]
        return fields


class ShopForm(forms.ModelForm):
    """The notice signing key (docs/shop-notices.md) is write-only: a new value replaces it, an empty field
    keeps it."""

    notify_secret = forms.CharField(label=_("通知签名密钥"), required=False, max_length=128,
                                    widget=forms.PasswordInput(render_value=False), help_text=_("留空则保持不变"))

    class Meta:
        model = Shop
        fields = ["code", "name", "members", "return_region", "return_line", "return_contact", "return_phone",
                  "notify_url", "notify_secret"]

    def clean_notify_secret(self) -> str:
        return self.cleaned_data.get("notify_secret") or (self.instance.notify_secret if self.instance.pk else "")


@admin.register(Shop)
class ShopAdmin(StaffViewMixin, admin.ModelAdmin):
    form = ShopForm
    list_display = ["code", "name", "member_names", "return_region_name", "return_contact"]
    search_fields = ["code", "name"]
    filter_horizontal = ["members"]

    def get_queryset(self, request: HttpRequest) -> Any:
        return super().get_queryset(request).prefetch_related("members")

    @admin.display(description=_("成员"))
    def member_names(self, obj: Shop) -> str:
        return ", ".join(m.username for m in obj.members.all())

    readonly_fields = ["return_address_names"]

    @admin.display(description=_("退货地区"), ordering="return_region")
    def return_region_name(self, obj: Shop) -> str:
        return region_label(obj.return_region)

    @admin.display(description=_("退货地址（地区名称）"))
    def return_address_names(self, obj: Shop) -> str:
        return address_names(obj.return_region, obj.return_line, obj.return_contact, obj.return_phone)


class CategoryFilter(admin.SimpleListFilter):
    """Categories by name (the import's codes are for machines)."""

    title = _("类目")
    parameter_name = "category"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        codes = Product.objects.order_by().values_list("category", flat=True).distinct()
        return sorted(((code, category_label(code)) for code in codes), key=lambda pair: pair[1])

    def queryset(self, request: HttpRequest, queryset: Any) -> Any:
        return queryset.filter(category=self.value()) if self.value() else queryset


@admin.register(Product)
class ProductAdmin(StaffViewMixin, admin.ModelAdmin):
    list_display = ["sku", "name", "shop", "category_name", "no_reason_returns", "warranty_days", "weight_grams"]
    list_filter = [CategoryFilter, "no_reason_returns", ("shop", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["sku", "name"]
    list_select_related = ["shop"]
    autocomplete_fields = ["shop"]

    @admin.display(description=_("类目"), ordering="category")
    def category_name(self, obj: Product) -> str:
        return category_label(obj.category)


class OrderItemInline(admin.TabularInline):
    model = OrderItem
    extra = 0
    fields = ["position", "product", "quantity", "unit_price", "paid"]
    autocomplete_fields = ["product"]


@admin.register(Order)
class OrderAdmin(StaffViewMixin, admin.ModelAdmin):
    list_display = ["number", "consumer", "shop", "paid_at", "shipped_at", "signed_at", "points_used",
                    "return_shipping_insurance"]
    list_filter = ["return_shipping_insurance", ("shop", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["number", "consumer__username"]
    list_select_related = ["consumer", "shop"]
    date_hierarchy = "paid_at"
    raw_id_fields = ["consumer"]
    autocomplete_fields = ["shop"]
    inlines = [OrderItemInline]
    readonly_fields = ["address_names"]

    @admin.display(description=_("收货地址（地区名称）"))
    def address_names(self, obj: Order) -> str:
        return address_names(obj.address_region, obj.address_line, obj.address_contact, obj.address_phone)


@admin.register(Region)
class RegionAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["code", "name", "level", "parent", "covered", "remote", "retired", "successor"]
    list_filter = ["level", "covered", "remote", "retired"]
    search_fields = ["code", "name"]
    list_select_related = ["parent", "successor"]


@admin.register(ReferenceRelease)
class ReferenceReleaseAdmin(ReadOnlyMixin, admin.ModelAdmin):
    """Which release of the division list and of the holiday calendar this installation runs on."""

    list_display = ["kind", "package", "version", "data_year", "applied_at", "summary"]
    list_filter = ["kind"]


@admin.register(StatutoryHoliday)
class StatutoryHolidayAdmin(ReadOnlyMixin, admin.ModelAdmin):
    """What `sync_holidays` wrote; the platform calendar itself is edited under 平台节假日."""

    list_display = ["year", "name", "start_date", "end_date", "holiday_id", "synced_at"]
    list_filter = ["year"]


class WalletEntryInline(admin.TabularInline):
    model = WalletEntry
    extra = 0
    fields = ("created_at", "points", "coupon_code", "coupon_value", "coupon_valid_until", "reason_label", "key")
    readonly_fields = fields
    can_delete = False

    @admin.display(description=_("原因"))
    def reason_label(self, entry: WalletEntry) -> str:
        return wallet_reason_label(entry.reason)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _platform_staff(request) or super().has_view_permission(request, obj)


@admin.register(Wallet)
class WalletAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["user", "points"]
    search_fields = ["user__username"]
    list_select_related = ["user"]
    inlines = [WalletEntryInline]


@admin.register(WalletEntry)
class WalletEntryAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["created_at", "wallet", "points", "coupon_code", "reason_label"]
    search_fields = ["wallet__user__username", "key", "reason"]
    list_select_related = ["wallet__user"]
    fields = ("wallet", "key", "points", "coupon_code", "coupon_value", "coupon_valid_until", "reason_label",
              "created_at")
    readonly_fields = fields

    @admin.display(description=_("原因"), ordering="reason")
    def reason_label(self, entry: WalletEntry) -> str:
        return wallet_reason_label(entry.reason)


@admin.register(ApiToken)
class ApiTokenAdmin(ReadOnlyMixin, admin.ModelAdmin):
    """Tokens by owner and lifetime only: the key is never stored, and not even its hash is shown."""

    list_display = ["user", "created_at", "expires_at", "last_used_at"]
    search_fields = ["user__username"]
    list_select_related = ["user"]
    fields = ["user", "created_at", "expires_at", "last_used_at"]
    readonly_fields = ["user", "created_at", "expires_at", "last_used_at"]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Revoking a token is allowed to supervisors; nothing else is editable.
        return getattr(request.user, "is_supervisor", False)
