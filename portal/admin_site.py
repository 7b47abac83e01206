"""The admin site: Django's, except that only the accounts the admin admits ever get an app list."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.http import HttpRequest


class PortalAdminSite(admin.AdminSite):
    """The login and logout pages build the app list for whoever asks; the model admins' permission
    hooks read staff roles that a visitor who is not signed in does not have (it was a 500)."""

    def get_app_list(self, request: HttpRequest, app_label: str | None = None) -> list[dict[str, Any]]:
        if not self.has_permission(request):
            return []
        return super().get_app_list(request, app_label)


class PortalAdminConfig(AdminConfig):
    """django.contrib.admin, whose default site is the portal's (named in INSTALLED_APPS)."""

    default_site = "portal.admin_site.PortalAdminSite"
