"""Failed-login protection around django-axes (api.md, "Authentication").

django-axes counts failures per (username, client address) in the database, shared by every process, and
its backend refuses a locked pair before any password hash runs. What axes has no setting for is written
here: the username as a whole is only slowed (never locked), the client address behind a known number of
proxies, and the lockout page that keeps the login form with a translated message.
"""

from __future__ import annotations

import time
from typing import Any

from axes.backends import AxesStandaloneBackend
from axes.exceptions import AxesBackendPermissionDenied
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Sum
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext as _


def client_address(request: HttpRequest) -> str | None:
    """The client's address: REMOTE_ADDR, or behind `TRUSTED_PROXY_COUNT` proxies the X-Forwarded-For entry
    that the outermost trusted proxy saw (entries further left are whatever the client sent)."""
    proxies = getattr(settings, "TRUSTED_PROXY_COUNT", 0)
    if proxies > 0:
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        if len(forwarded) >= proxies:
            return forwarded[-proxies][:45]
    return request.META.get("REMOTE_ADDR") or None


class LockoutBackend(AxesStandaloneBackend):
    """First in AUTHENTICATION_BACKENDS: a locked (username, address) pair is refused before any backend
    checks the password; the request is marked so the API and the forms can answer 429."""

    def authenticate(self, request: Any, username: str | None = None, password: str | None = None,
                     **kwargs: Any) -> None:
        if request is None:
            return None  # no client address (a management command, a test client's login): no form to guard
        try:
            return super().authenticate(request, username, password, **kwargs)
        except AxesBackendPermissionDenied:
            if request is not None:
                request.login_locked = True
            raise


def username_failures(username: str) -> int:
    """Failures for this username from every address within the lockout window."""
    since = timezone.now() - settings.AXES_COOLOFF_TIME
    total = (AccessAttempt.objects.filter(username=username, attempt_time__gte=since)
             .aggregate(total=Sum("failures_since_start"))["total"])
    return int(total or 0)


def username_delay(failures: int) -> float:
    """Seconds a failed attempt waits once a username has failed `LOGIN_SLOWDOWN_AFTER` times from any
    address: growing with the failures, capped at `LOGIN_SLOWDOWN_MAX_SECONDS`. Never a lock."""
    over = failures - settings.LOGIN_SLOWDOWN_AFTER + 1
    if over <= 0:
        return 0.0
    return min(settings.LOGIN_SLOWDOWN_MAX_SECONDS, over * settings.LOGIN_SLOWDOWN_STEP_SECONDS)


class SlowdownBackend:
    """Last in AUTHENTICATION_BACKENDS, so it runs only when every backend before it refused the password:
    a username failing from many addresses answers each further failure more slowly. It never logs anyone
    in and never refuses anyone."""

    def authenticate(self, request: Any, username: str | None = None, password: str | None = None,
                     **kwargs: Any) -> None:
        if username:
            delay = username_delay(username_failures(username))
            if delay > 0:
                time.sleep(delay)
        return None

    def get_user(self, user_id: int) -> None:
        return None


def lockout_response(request: HttpRequest, original_response: HttpResponse | None = None,
                     credentials: dict | None = None) -> HttpResponse | None:
    """AXES_LOCKOUT_CALLABLE for the site and admin login forms: the same form page with the lockout
    message, status 429, when the attempt was refused unchecked. The failure that reaches the limit was
    checked, so it keeps its ordinary "wrong password" page."""
    if not getattr(request, "login_locked", False):
        return original_response
    message = _("登录失败次数过多，请 15 分钟后再试")
    if isinstance(original_response, TemplateResponse):
        context = dict(original_response.context_data or {})
        form = context.get("form")
        if form is not None and hasattr(form, "add_error"):
            form.errors.clear()
            form.add_error(None, message)
        context["locked"] = True
        return TemplateResponse(request, original_response.template_name, context, status=429).render()
    return HttpResponse(message, status=429, content_type="text/plain; charset=utf-8")
