"""The simulated courier's HTTP API (book, cancel, track, control). Every request is signed like a webhook."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from .. import conf
from ..courier_secrets import is_weak, new_secret
from ..models import SimulatedCourierBooking, SimulatedCourierControl
from ..signing import verify
from .service import (
    SimulatedFailure,
    control_dict,
    control_set,
    simulated_secret,
    simulator_book,
    simulator_book_visit,
    simulator_cancel,
    simulator_intercept,
)


def _error(code: str, status: int) -> JsonResponse:
    return JsonResponse({"code": code, "detail": code}, status=status)


def _signed(view: Callable[..., JsonResponse]) -> Callable[..., JsonResponse]:
    """Refuse calls not signed with the simulated courier's secret (it is reachable wherever the portal is)."""

    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
        secret = simulated_secret()
        usable = secret is not None and not is_weak(secret)
        refusal = verify(secret if secret and usable else new_secret(), request.headers.get("X-Timestamp"),
                         request.headers.get("X-Signature"), request.body,
                         tolerance=conf.webhook_tolerance_seconds())
        if not usable:
            refusal = "invalid_signature"
        if refusal is not None:
            return _error(refusal, 401)
        return view(request, *args, **kwargs)

    wrapper.__name__ = view.__name__
    wrapper.__doc__ = view.__doc__
    return csrf_exempt(wrapper)


def _json(request: HttpRequest) -> dict[str, Any] | None:
    try:
        data = json.loads(request.body or b"{}")
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def booking_dict(booking: SimulatedCourierBooking, replayed: bool = False) -> dict[str, Any]:
    return {"waybill": booking.waybill, "status": booking.status, "reference": booking.reference,
            "idempotency_key": booking.idempotency_key, "replayed": replayed,
            "slot_start": booking.slot_start.isoformat() if booking.slot_start else None,
            "slot_end": booking.slot_end.isoformat() if booking.slot_end else None,
            "steps_sent": booking.steps_sent}


Booked = tuple[SimulatedCourierBooking, bool, bool]  # (booking, replayed, should_time_out)


def _take_booking(request: HttpRequest, book_with: Callable[[dict[str, Any]], Booked]) -> Booked | JsonResponse:
    """A pickup's or a visit's booking request: the JSON body with its key checked, then booked; or the
    error answer (bad JSON, no key, a scripted failure, an invalid field)."""
    data = _json(request)
    if data is None:
        return _error("invalid_json", 400)
    if not str(data.get("idempotency_key") or "").strip():
        return _error("idempotency_key_required", 400)
    try:
        return book_with(data)
    except SimulatedFailure:
        return _error("service_unavailable", 503)
    except (TypeError, ValueError):
        return _error("invalid", 400)


@_signed
@require_http_methods(["POST"])
def book(request: HttpRequest) -> JsonResponse:
    taken = _take_booking(request, simulator_book)
    if isinstance(taken, JsonResponse):
        return taken
    booking, replayed, times_out = taken
    if times_out:  # booked, but the answer comes too late for the caller: it must retry with the same key
        time.sleep(float(conf.setting("SIMULATED_COURIER_TIMEOUT_SLEEP", conf.courier_timeout_seconds() + 1)))
    return JsonResponse(booking_dict(booking, replayed), status=200 if replayed else 201)


@_signed
@require_http_methods(["GET"])
def track(request: HttpRequest, waybill: str) -> JsonResponse:
    booking = SimulatedCourierBooking.objects.filter(waybill=waybill).first()
    if booking is None:
        return _error("not_found", 404)
    return JsonResponse(booking_dict(booking))


@_signed
@require_http_methods(["POST"])
def cancel(request: HttpRequest, waybill: str) -> JsonResponse:
    booking = simulator_cancel(waybill)
    if booking is None:
        return _error("not_found", 404)
    return JsonResponse(booking_dict(booking))


@_signed
@require_http_methods(["GET", "POST"])
def control(request: HttpRequest) -> JsonResponse:
    """Script the simulator: {"fail_next": N, "timeout_next": N, "behaviour": "no_show", "reset": true}."""
    if request.method == "GET":
        return JsonResponse(control_dict(SimulatedCourierControl.current()))
    data = _json(request)
    if data is None:
        return _error("invalid_json", 400)
    try:
        return JsonResponse(control_dict(control_set(data)))
    except (TypeError, ValueError):
        return _error("invalid", 400)


@_signed
@require_http_methods(["POST"])
def intercept(request: HttpRequest, waybill: str) -> JsonResponse:
    """Stop an outbound parcel: deterministic by waybill (an even last digit intercepts, an odd one fails)."""
    status, reason = simulator_intercept(waybill)
    return JsonResponse({"waybill": waybill, "status": status, "reason": reason})


@_signed
@require_http_methods(["POST"])
def book_visit(request: HttpRequest) -> JsonResponse:
    """A technician visit (docs/visits.md): idempotent on the key; the outcome follows by webhook."""
    taken = _take_booking(request, simulator_book_visit)
    if isinstance(taken, JsonResponse):
        return taken
    booking, replayed, _times_out = taken
    body = booking_dict(booking, replayed)
    body["reference"] = booking.waybill  # the service number the portal keeps
    return JsonResponse(body, status=200 if replayed else 201)


@_signed
@require_http_methods(["POST"])
def cancel_visit(request: HttpRequest, reference: str) -> JsonResponse:
    booking = simulator_cancel(reference)
    if booking is None:
        return _error("not_found", 404)
    return JsonResponse(booking_dict(booking))
