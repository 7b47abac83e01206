"""The admin classes every staff page builds on: platform staff may look; only settings may be edited."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from simple_history.admin import SimpleHistoryAdmin

from portal.admin import NoWritesMixin
from portal.http import user_of


class StaffViewMixin:
    """Platform staff may look at everything in the workspace, whatever their per-model permissions."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return user_of(request).is_platform_staff

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return user_of(request).is_platform_staff


class ReadOnlyAdmin(NoWritesMixin, StaffViewMixin, admin.ModelAdmin):
    """Records that only services write: no add, no change, no delete, for anyone (superusers too)."""


class SettingsAdmin(StaffViewMixin, SimpleHistoryAdmin):
    """Platform settings: every staff member reads them, supervisors (`edit_platform_settings`) edit; the
    History page (django-simple-history) shows who changed what from which value to which."""

    def _may_edit(self, request: HttpRequest) -> bool:
        return user_of(request).is_platform_staff and user_of(request).has_perm("cases.edit_platform_settings")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self._may_edit(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._may_edit(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._may_edit(request)
