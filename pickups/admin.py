"""Admin for couriers (coverage, limits, price table), and read-only views of slots, pickups and events.

Nothing here changes a pickup's state: that only happens through pickups.services.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from portal.admin import NoWritesMixin, address_names
from portal.labels import region_label

from .courier_secrets import is_weak
from .models import (
    Courier,
    CourierEvent,
    CourierRegionRule,
    InterceptionRequest,
    Pickup,
    PickupEvent,
    RepairVisit,
    Slot,
)


class ReadOnlyAdmin(NoWritesMixin, admin.ModelAdmin):
    pass


class CourierForm(forms.ModelForm):
    """The secret is write-only: a new value replaces it, an empty field keeps it."""

    new_secret = forms.CharField(label=_("新签名密钥"), required=False, widget=forms.PasswordInput(render_value=False),
                                 help_text=_("留空则保持不变"))

    class Meta:
        model = Courier
        fields = ["code", "name", "active", "is_default", "base_url", "covers_remote", "max_weight_grams",
                  "max_side_cm", "capacity_per_slot", "first_kg_fee", "extra_kg_fee", "offers_visits",
                  "visit_capacity_per_slot", "visit_fee"]

    def clean(self) -> dict[str, Any]:
        super().clean()  # answers self.cleaned_data
        data = self.cleaned_data
        if not self.instance.pk and not data.get("new_secret"):
            self.add_error("new_secret", _("新建快递公司须设置签名密钥"))
        elif data.get("new_secret") and is_weak(data["new_secret"]):
            self.add_error("new_secret", _("该密钥是众所周知的默认值，任何人都能伪造签名；请使用随机密钥"))
        return data

    def save(self, commit: bool = True) -> Courier:
        if self.cleaned_data.get("new_secret"):
            self.instance.secret = self.cleaned_data["new_secret"]
        return super().save(commit=commit)


class CourierRegionRuleInline(admin.TabularInline):
    model = CourierRegionRule
    extra = 0
    autocomplete_fields = ()
    raw_id_fields = ["region"]


@admin.register(Courier)
class CourierAdmin(SimpleHistoryAdmin):
    form = CourierForm
    list_display = ["code", "name", "is_default", "active", "covers_remote", "max_weight_grams", "max_side_cm",
                    "capacity_per_slot", "first_kg_fee", "extra_kg_fee", "masked_secret"]
    readonly_fields = ["masked_secret"]
    inlines = [CourierRegionRuleInline]
    fieldsets = [
        (None, {"fields": ["code", "name", "active", "is_default", "base_url"]}),
        (_("覆盖范围与限制"), {"fields": ["covers_remote", "max_weight_grams", "max_side_cm", "capacity_per_slot"]}),
        (_("运费"), {"fields": ["first_kg_fee", "extra_kg_fee"]}),
        (_("上门维修"), {"fields": ["offers_visits", "visit_capacity_per_slot", "visit_fee"]}),
        (_("签名"), {"fields": ["masked_secret", "new_secret"]}),
    ]

    @admin.display(description=_("签名密钥"))
    def masked_secret(self, obj: Courier) -> str:
        return f"{obj.secret[:4]}…({len(obj.secret)})" if obj.secret else "—"


@admin.register(Slot)
class SlotAdmin(ReadOnlyAdmin):
    list_display = ["courier", "kind", "region_code", "region_name", "start", "end", "capacity", "booked"]
    list_filter = ["courier", "kind"]
    search_fields = ["region_code"]
    date_hierarchy = "start"

    @admin.display(description=_("地区名称"))
    def region_name(self, obj: Slot) -> str:
        return region_label(obj.region_code)


class PickupEventInline(admin.TabularInline):
    model = PickupEvent
    extra = 0
    can_delete = False
    readonly_fields = ["at", "action", "from_state", "to_state", "source", "payload"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Pickup)
class PickupAdmin(ReadOnlyAdmin):
    list_display = ["id", "case", "courier", "state", "waybill", "slot", "fee", "payer", "dispatch_attempts",
                    "created_at"]
    list_filter = ["state", "courier", "payer"]
    search_fields = ["waybill", "case__number", "idempotency_key"]
    list_select_related = ["case", "courier", "slot__courier"]
    inlines = [PickupEventInline]
    readonly_fields = ["address_names"]

    @admin.display(description=_("取件地址（地区名称）"))
    def address_names(self, obj: Pickup) -> str:
        return address_names(obj.address_region, obj.address_line, obj.address_contact, obj.address_phone)


@admin.register(PickupEvent)
class PickupEventAdmin(ReadOnlyAdmin):
    list_display = ["pickup", "at", "action", "from_state", "to_state", "source"]
    list_filter = ["source", "action"]


@admin.register(CourierEvent)
class CourierEventAdmin(ReadOnlyAdmin):
    list_display = ["courier", "event_id", "status", "waybill", "applied", "note", "received_at"]
    list_filter = ["courier", "applied", "status"]
    search_fields = ["event_id", "waybill"]


@admin.register(RepairVisit)
class RepairVisitAdmin(ReadOnlyAdmin):
    """docs/visits.md: technician visits; their state changes only through the case services."""

    list_display = ["id", "case", "courier", "state", "reference", "slot", "fee", "payer", "created_at", "closed_at"]
    list_filter = ["state", "courier", "payer"]
    search_fields = ["reference", "case__number", "idempotency_key"]
    list_select_related = ["case", "courier", "slot__courier"]


@admin.register(InterceptionRequest)
class InterceptionRequestAdmin(ReadOnlyAdmin):
    """docs/interception.md: requests to stop a parcel, re-sent until the courier answers."""

    list_display = ["case", "carrier", "waybill", "attempts", "answer", "created_at", "acknowledged_at"]
    list_filter = ["carrier", ("acknowledged_at", admin.EmptyFieldListFilter)]
    search_fields = ["case__number", "waybill"]
    list_select_related = ["case"]
