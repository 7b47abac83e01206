"""Rate limits on the HTML forms: the API's own throttles (portal.api_support), the same scopes, keys and
rates, and the same cache counters, so a user has one budget whether they act through a page or the API."""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from rest_framework.throttling import BaseThrottle


def throttled(*throttle_classes: type[BaseThrottle], methods: tuple[str, ...] = ("POST",)) -> Callable:
    """Decorate a page view (inside login_required) so its POSTs count against the API throttles given;
    over the limit it answers 429 with the wait, in the reader's language, and does nothing else."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if request.method in methods:
                for throttle_class in throttle_classes:
                    throttle = throttle_class()
                    if not throttle.allow_request(request, None):  # type: ignore[arg-type]  # DRF throttles take no view here
                        return rate_limited(request, throttle.wait())
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def rate_limited(request: HttpRequest, wait: float | None) -> HttpResponse:
    seconds = max(1, math.ceil(wait or 1))
    template = "rate_limited_fragment.html" if request.headers.get("HX-Request") else "rate_limited.html"
    response = render(request, template, {"seconds": seconds}, status=429)
    response["Retry-After"] = str(seconds)
    return response
