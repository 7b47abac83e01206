"""Shared API plumbing: one error shape, pagination, throttles keyed on the user."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions, pagination, status, throttling
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from .api_messages import code_detail, in_language
from .errors import DomainError
from .parsers import NulRefused


def query_value(request: Any, name: str) -> str | None:
    """One query parameter, refused (400 `invalid`) when given twice or holding a NUL byte."""
    values = request.query_params.getlist(name)
    if not values:
        return None
    if len(values) > 1:
        raise DomainError("invalid", _("参数 %(name)s 只能给出一次") % {"name": name}, field=name)
    if "\x00" in values[0]:
        raise DomainError("invalid", _("参数 %(name)s 的值无效") % {"name": name}, field=name)
    return values[0]


def query_int(request: Any, name: str, *, minimum: int = 1) -> int | None:
    """An optional integer query parameter, as the schema documents it (absent: None; else 400 `invalid`)."""
    value = query_value(request, name)
    if value is None:
        return None
    if not re.fullmatch(r"[0-9]{1,9}", value) or int(value) < minimum:
        raise DomainError("invalid", _("参数 %(name)s 须为不小于 %(min)s 的整数") % {"name": name, "min": minimum}, field=name)
    return int(value)


def query_choices(request: Any, name: str, choices: Iterable[str]) -> str | None:
    """An optional comma-separated list of known values (`state=rejected,closed`); anything else is a 400."""
    value = query_value(request, name)
    if value is None:
        return None
    allowed = set(choices)
    if not value or any(part not in allowed for part in value.split(",")):
        raise DomainError("invalid", _("参数 %(name)s 须为以下之一（可用逗号分隔多个）：%(values)s") % {"name": name, "values": ", ".join(sorted(allowed))}, field=name)
    return value


class Pagination(pagination.PageNumberPagination):
    """Page-number pagination whose `page` and `page_size` are checked as the schema documents them."""

    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 200

    def get_page_size(self, request):
        size = query_int(request, self.page_size_query_param)
        return self.page_size if size is None else min(size, self.max_page_size)

    def paginate_queryset(self, queryset, request, view=None):
        query_int(request, self.page_query_param)
        return super().paginate_queryset(queryset, request, view)


def _first_error(detail: Any, path: str = "") -> tuple[str | None, str, str]:
    """The first (field, message, code) of a DRF error structure."""
    if isinstance(detail, dict):
        for key, value in detail.items():
            sub = f"{path}.{key}" if path else str(key)
            if key == "non_field_errors":
                sub = path
            return _first_error(value, sub)
    if isinstance(detail, list) and detail:
        return _first_error(detail[0], path)
    code = getattr(detail, "code", "invalid") or "invalid"
    return (path or None), str(detail), str(code)


def error_response(code: str, detail: str, status_code: int, field: str | None = None, **extra: Any) -> Response:
    body: dict[str, Any] = {"code": code, "detail": detail}
    if field:
        body["field"] = field
    body.update(extra)
    return Response(body, status=status_code)


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Every API error as the contract's `{"code","detail","field"}`, `detail` in the requester's language
    (portal/api_messages.py)."""
    response = _error_response(exc, context)
    if response is not None and isinstance(response.data, dict) and "code" in response.data:
        response.data["detail"] = in_language(str(response.data["code"]), response.data.get("detail"))
    return response


def _error_response(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DomainError):
        return error_response(exc.code, exc.detail, exc.status, exc.field, **exc.extra)
    if isinstance(exc, Http404):
        return error_response("not_found", code_detail("not_found"), 404)
    if isinstance(exc, PermissionDenied):
        return error_response("permission_denied", str(exc) or code_detail("permission_denied"), 403)
    if isinstance(exc, DjangoValidationError):
        return error_response("invalid", "; ".join(exc.messages), 400)
    if isinstance(exc, exceptions.ParseError) and not isinstance(exc, NulRefused):  # DRF's quotes the parser's
        # English ("JSON parse error - Expecting value: line 1 column 1")
        return error_response("parse_error", code_detail("parse_error"), 400)
    if isinstance(exc, exceptions.Throttled):
        throttled = error_response("rate_limited", code_detail("rate_limited"), 429)
        wait = getattr(exc, "wait", None)  # seconds until the next request is allowed (DRF's Throttled)
        if wait:
            throttled["Retry-After"] = str(int(wait) + 1)
        return throttled
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        field, message, code = _first_error(exc.detail)
        if code in ("invalid", "required", "null", "blank") and field:
            code = "required" if code in ("required", "null", "blank") else "invalid"
        response.data = {"code": code, "detail": message, **({"field": field} if field else {})}
        response.status_code = status.HTTP_400_BAD_REQUEST
        return response
    if isinstance(exc, (exceptions.NotAuthenticated, exceptions.AuthenticationFailed)):
        response.status_code = 401
        code = "not_authenticated" if isinstance(exc, exceptions.NotAuthenticated) else "authentication_failed"
        response.data = {"code": code, "detail": str(exc.detail)}
        return response
    detail = getattr(exc, "detail", "")
    other = getattr(detail, "code", None) or getattr(exc, "default_code", "error")
    if isinstance(exc, exceptions.UnsupportedMediaType):
        other = "unsupported_media_type"
    response.data = {"code": str(other), "detail": str(detail)}
    return response


class UserScopedThrottle(throttling.SimpleRateThrottle):
    """Throttle keyed on the user (never on the client address alone)."""

    def get_cache_key(self, request, view):
        if request.user and request.user.is_authenticated:
            ident = f"user:{request.user.pk}"
        else:
            ident = f"ip:{self.get_ident(request)}"
        return f"throttle_{self.scope}_{ident}"


class CaseCreateThrottle(UserScopedThrottle):
    scope = "case_create"


class CaseActionThrottle(UserScopedThrottle):
    scope = "case_action"


class UploadThrottle(UserScopedThrottle):
    scope = "upload"


class MessageThrottle(UserScopedThrottle):
    scope = "message"
