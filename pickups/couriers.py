"""The courier gateway: what the portal asks of a courier (book, cancel, track), and the HTTP client that
speaks to one. The simulated courier (pickups.simulator) is served over the same HTTP API, so the client
below is exactly what runs in production against it; a real courier gets an adapter with this interface.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, Protocol

import requests

from . import conf
from .models import Courier
from .signing import signed_headers


class CourierError(Exception):
    """A courier call that did not succeed."""


class CourierUnavailable(CourierError):
    """Transient: timeout, connection refused, 5xx, 429. Retry with the same idempotency key."""


class CourierRejected(CourierError):
    """Permanent: the courier refused the request (4xx). Retrying will not help."""


@dataclass(frozen=True)
class BookingRequest:
    idempotency_key: str
    reference: str
    region: str
    address_line: str
    contact: str
    phone: str
    weight_grams: int
    slot_start: datetime
    slot_end: datetime
    callback_url: str

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["slot_start"] = self.slot_start.isoformat()
        data["slot_end"] = self.slot_end.isoformat()
        return data


@dataclass(frozen=True)
class VisitRequest:
    """A technician visit (docs/visits.md): the provider answers with its service number (`Booking.waybill`)."""

    idempotency_key: str
    reference: str
    region: str
    address_line: str
    contact: str
    phone: str
    slot_start: datetime
    slot_end: datetime
    callback_url: str

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["slot_start"] = self.slot_start.isoformat()
        data["slot_end"] = self.slot_end.isoformat()
        return data


@dataclass(frozen=True)
class Booking:
    waybill: str
    status: str
    replayed: bool = False


@dataclass(frozen=True)
class Tracking:
    waybill: str
    status: str
    events: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class Interception:
    """The courier's answer to "stop this parcel": `intercepted`, `intercept_failed`, or `requested` (the
    result follows by webhook)."""

    waybill: str
    status: str
    reason: str = ""


class CourierGateway(Protocol):
    """The interface every courier adapter implements.

    `book` must be idempotent on `idempotency_key`: the same key returns the same waybill and never
    creates a second booking (the portal retries after timeouts and worker crashes).
    """

    def book(self, request: BookingRequest) -> Booking: ...

    def cancel(self, waybill: str) -> None: ...

    def track(self, waybill: str) -> Tracking: ...

    def intercept(self, waybill: str) -> Interception:
        """Ask the courier to stop an outbound parcel and send it back to the shop. Idempotent by waybill:
        asking twice answers the same result."""
        ...

    def book_visit(self, request: VisitRequest) -> Booking:
        """Send a technician (docs/visits.md); idempotent on `idempotency_key` like `book`. The outcome comes
        by webhook."""
        ...

    def cancel_visit(self, reference: str) -> None:
        """Call a booked technician off; cancelling twice is harmless."""
        ...


class HttpCourierClient:
    """JSON over HTTP, each request signed like the courier's webhooks: X-Timestamp, X-Signature."""

    def __init__(self, *, base_url: str, secret: str, timeout: float | None = None,
                 session: requests.Session | None = None) -> None:
        self.base_url = base_url if base_url.endswith("/") else base_url + "/"
        self.secret = secret
        self.timeout = timeout if timeout is not None else conf.courier_timeout_seconds()
        self.session = session or requests.Session()

    def _call(self, method: str, path: str, payload: dict[str, Any] | None = None) -> dict[str, Any]:
        body = json.dumps(payload or {}, separators=(",", ":")).encode() if method != "GET" else b""
        headers = signed_headers(self.secret, body)
        try:
            response = self.session.request(method, self.base_url + path, data=body or None, headers=headers,
                                            timeout=self.timeout)
        except requests.RequestException as exc:  # timeouts, refused connections, resets
            raise CourierUnavailable(f"{method} {path}: {exc.__class__.__name__}") from exc
        if response.status_code >= 500 or response.status_code == 429:
            raise CourierUnavailable(f"{method} {path}: HTTP {response.status_code}")
        try:
            data = response.json()
        except ValueError as exc:
            raise CourierUnavailable(f"{method} {path}: not JSON") from exc
        if response.status_code >= 400:
            raise CourierRejected(f"{method} {path}: HTTP {response.status_code} {data.get('code', '')}".strip())
        return data if isinstance(data, dict) else {}

    def book(self, request: BookingRequest) -> Booking:
        data = self._call("POST", "bookings/", request.as_json())
        waybill = str(data.get("waybill") or "")
        if not waybill:
            raise CourierUnavailable("booking answered without a waybill")
        return Booking(waybill=waybill, status=str(data.get("status", "")), replayed=bool(data.get("replayed")))

    def cancel(self, waybill: str) -> None:
        self._call("POST", f"bookings/{waybill}/cancel/")

    def track(self, waybill: str) -> Tracking:
        data = self._call("GET", f"bookings/{waybill}/")
        return Tracking(waybill=waybill, status=str(data.get("status", "")), events=list(data.get("events", [])))


    def intercept(self, waybill: str) -> Interception:
        data = self._call("POST", f"interceptions/{waybill}/")
        status = str(data.get("status") or "")
        if status not in ("intercepted", "intercept_failed", "requested"):
            raise CourierUnavailable("interception answered without a status")
        return Interception(waybill=waybill, status=status, reason=str(data.get("reason") or ""))

    def book_visit(self, request: VisitRequest) -> Booking:
        data = self._call("POST", "visits/", request.as_json())
        reference = str(data.get("reference") or data.get("waybill") or "")
        if not reference:
            raise CourierUnavailable("visit booking answered without a service number")
        return Booking(waybill=reference, status=str(data.get("status", "")), replayed=bool(data.get("replayed")))

    def cancel_visit(self, reference: str) -> None:
        self._call("POST", f"visits/{reference}/cancel/")


def gateway_for(courier: Courier) -> CourierGateway:
    """The adapter for a courier. Every courier today speaks the portal's courier HTTP API; a real one with
    its own protocol gets a class here, chosen by `courier.code`."""
    return HttpCourierClient(base_url=courier.base_url, secret=courier.secret)


def webhook_url(courier: Courier) -> str:
    """Where the courier sends status events for our bookings (given to it with each booking)."""
    return f"{conf.portal_base_url()}/api/v1/couriers/{courier.code}/webhook/"
