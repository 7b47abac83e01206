"""Django's error handlers: the contract's JSON error shape for every path under /api/, HTML elsewhere."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.views import defaults
from django.views.decorators.csrf import requires_csrf_token


def is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def _json(code: str, detail: str, status: int) -> JsonResponse:
    return JsonResponse({"code": code, "detail": detail}, status=status, json_dumps_params={"ensure_ascii": False})


@requires_csrf_token
def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    if is_api(request):
        return _json("invalid", _("请求无效"), 400)
    return defaults.bad_request(request, exception)


@requires_csrf_token
def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    if is_api(request):
        return _json("permission_denied", _("您无权执行此操作"), 403)
    return defaults.permission_denied(request, exception)


@requires_csrf_token
def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if is_api(request):
        return _json("not_found", _("找不到该资源"), 404)
    return defaults.page_not_found(request, exception)


@requires_csrf_token
def server_error(request: HttpRequest) -> HttpResponse:
    if is_api(request):
        return _json("server_error", _("服务器出错了，我们已记录此问题"), 500)
    return defaults.server_error(request)
