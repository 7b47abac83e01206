"""The request id on every log line (the id itself is django-guid's), a 503 (not a 500) when the database
is unreachable, and trailing slashes."""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.db import DatabaseError, InterfaceError, OperationalError
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    HttpResponsePermanentRedirect,
    JsonResponse,
)
from django.middleware.common import CommonMiddleware
from django.utils.http import escape_leading_slashes
from django_guid import get_guid

log = logging.getLogger("portal.request")


class RequestIdFilter(logging.Filter):
    """`request_id` on each record: the request's id in a web process, the id the task message carried in a
    worker (django-guid sets both)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            record.request_id = get_guid()
        return True


class DatabaseUnavailableMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, (OperationalError, InterfaceError)) or (
            isinstance(exception, DatabaseError) and "connection" in str(exception).lower()
        ):
            log.error("database unavailable: %s", exception)
            from .api_messages import code_detail

            response = JsonResponse({"code": "service_unavailable", "detail": code_detail("service_unavailable")},
                                    status=503, json_dumps_params={"ensure_ascii": False})
            response["Retry-After"] = "10"
            return response
        return None


CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob: https:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'self'; "
    "form-action 'self'"
)


class SecurityHeadersMiddleware:
    """A Content-Security-Policy with no inline script, plus the usual hardening headers."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.setdefault("Referrer-Policy", "same-origin")
        response.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        return response


class HttpResponsePermanentRedirectKeepingMethod(HttpResponsePermanentRedirect):
    status_code = 308  # like 301, but the client repeats the same method with the same body


class TrailingSlashMiddleware(CommonMiddleware):
    """Django's APPEND_SLASH without its one 500 (under DEBUG it raises for a POST it cannot redirect).

    The API answers a path without its trailing slash as the path with it, no redirect: clients that drop
    the slash (`POST /api/v1/auth/token`) keep their method, body and headers. Pages redirect as before,
    with a 308 for a method that carries a body so the body is sent again, in every setting.
    """

    api_prefix = "/api/"

    def process_request(self, request: HttpRequest) -> HttpResponsePermanentRedirect | None:
        response = super().process_request(request)
        if (response is None and request.path_info.startswith(self.api_prefix)
                and self.should_redirect_with_slash(request)):
            request.path_info += "/"
            request.path += "/"
        return response

    def get_full_path_with_slash(self, request: HttpRequest) -> str:
        return escape_leading_slashes(request.get_full_path(force_append_slash=True))

    def process_response(self, request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
        if (response.status_code == 404 and request.method not in ("GET", "HEAD")
                and self.should_redirect_with_slash(request)):
            return HttpResponsePermanentRedirectKeepingMethod(self.get_full_path_with_slash(request))
        return super().process_response(request, response)
