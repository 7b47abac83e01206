"""Receiving courier status events: authenticate, store once, apply if it fits, never fail loudly.

Every event is kept (CourierEvent) whether it applied or not, so support can see what a courier said.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import ConcurrentTransition, TransitionNotAllowed

from cases.notifications import notify_staff
from portal.errors import DomainError

from . import conf
from .courier_secrets import is_weak, new_secret
from .interception import RESULTS, interception_apply, interception_case_for
from .models import VISIT_OUTCOMES, Courier, CourierEvent, Pickup
from .services import STATUS_ALIASES, PickupError, _lock_pickup, pickup_apply_status
from .signing import verify
from .visits import visit_for_event, visit_outcome_apply


@dataclass(frozen=True)
class WebhookResult:
    event_id: str
    applied: bool
    duplicate: bool
    note: str
    pickup_id: int | None
    state: str | None

    def as_dict(self) -> dict[str, Any]:
        return {"event_id": self.event_id, "applied": self.applied, "duplicate": self.duplicate,
                "note": self.note, "pickup": self.pickup_id, "state": self.state}


def _parse(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise PickupError("invalid_json", _("请求体不是有效的 JSON"), status=400) from exc
    if not isinstance(data, dict):
        raise PickupError("invalid_json", _("请求体须为 JSON 对象"), status=400)
    return data


def _column(name: str) -> int:
    return getattr(CourierEvent._meta.get_field(name), "max_length", None) or 0


def _text(data: dict[str, Any], key: str, limit: int) -> str:
    """The field as text; longer than its column → 400, never cut (a cut event id would collide with
    another event's and be dropped as its duplicate; a cut waybill could name another parcel)."""
    value = data.get(key)
    if value is None:
        return ""
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise PickupError("invalid", _("字段格式不正确"), field=key, status=400)
    text = str(value).strip()
    if len(text) > limit:
        raise PickupError("invalid", _("字段过长（最多 %(limit)s 个字符）") % {"limit": limit}, field=key, status=400)
    return text


def _authenticate(courier_code: str, timestamp: str | None, signature: str | None, body: bytes,
                  now: datetime) -> Courier:
    """The courier that signed this request. An unknown courier, or one whose secret is empty or a known
    default, is answered exactly like a bad signature (same status, same body, a signature computed all
    the same), so the webhook tells nobody which courier codes exist."""
    courier = Courier.objects.filter(code=courier_code).first()
    usable = courier is not None and not is_weak(courier.secret)
    secret = courier.secret if usable and courier is not None else new_secret()
    refusal = verify(secret, timestamp, signature, body, tolerance=conf.webhook_tolerance_seconds(),
                     now=now.timestamp())
    if not usable:
        refusal = "invalid_signature"
    if refusal is not None:
        raise DomainError(refusal, _("签名无效或时间戳过期"), status=401)
    assert courier is not None
    return courier


def _alert_if_parcel_moves_on_closed_case(pickup: Pickup, status: str) -> None:
    """A courier reports the parcel moving although its case has closed (withdrawn, expired, ruled): the parcel
    may be on its way to the merchant, so staff are told (lifecycle.md)."""
    status = STATUS_ALIASES.get(status, status)
    if status in ("picked_up", "in_transit", "delivered") and pickup.case.is_terminal:
        notify_staff(case=pickup.case, kind="pickup_after_close",
                     params={"number": pickup.case.number, "status": status, "waybill": pickup.waybill})


def courier_event_receive(*, courier_code: str, timestamp: str | None, signature: str | None, body: bytes,
                          now: datetime | None = None) -> WebhookResult:
    """The webhook's whole job. Refusals: bad signature, stale timestamp or unknown courier 401, malformed
    body or a field longer than its column 400. Anything else is a 200 saying whether the event applied."""
    now = now or timezone.now()
    courier = _authenticate(courier_code, timestamp, signature, body, now)
    data = _parse(body)
    event_id = _text(data, "event_id", _column("event_id"))
    if not event_id:
        raise PickupError("required", _("缺少 event_id"), field="event_id", status=400)
    waybill, status = _text(data, "waybill", _column("waybill")), _text(data, "status", _column("status"))
    reference = _text(data, "reference", Pickup._meta.get_field("idempotency_key").max_length or 0)

    with transaction.atomic():
        try:
            with transaction.atomic():
                event = CourierEvent.objects.create(courier=courier, event_id=event_id, received_at=now,
                                                    waybill=waybill, status=status,
                                                    raw_body=body.decode("utf-8", "replace"))
        except IntegrityError:
            seen = CourierEvent.objects.filter(courier=courier, event_id=event_id).first()
            return WebhookResult(event_id=event_id, applied=bool(seen and seen.applied), duplicate=True,
                                 note="duplicate", pickup_id=seen.pickup_id if seen else None, state=None)
        if status in VISIT_OUTCOMES:  # a technician's outcome (docs/visits.md)
            visit = visit_for_event(courier, waybill, reference)
            if visit is None:
                event.note = "unknown_visit"
            else:
                event.applied = visit_outcome_apply(visit=visit, status=status, note=_text(data, "note", 255),
                                                    now=now)
                event.note = f"visit {status}" if event.applied else f"ignored: {status}"
            event.save(update_fields=["note", "applied"])
            return WebhookResult(event_id, event.applied, False, event.note, None, None)
        match = Q(waybill=waybill) if waybill else Q(pk__in=[])
        if reference:
            match |= Q(idempotency_key=reference)
        pickup_id = (Pickup.objects.filter(match, courier=courier).order_by("-created_at")
                     .values_list("pk", flat=True).first())
        if pickup_id is None and status in RESULTS:
            case_id = interception_case_for(courier, waybill)
            if case_id is not None:
                event.applied = interception_apply(case_id=case_id, status=status,
                                                   reason=_text(data, "reason", 255))
                event.note = f"interception {status}" if event.applied else f"ignored: {status}"
                event.save(update_fields=["note", "applied"])
                return WebhookResult(event_id, event.applied, False, event.note, None, None)
        if pickup_id is None:
            event.note = "unknown_waybill"
            event.save(update_fields=["note"])
            return WebhookResult(event_id, False, False, event.note, None, None)
        pickup = _lock_pickup(pickup_id)
        assert pickup is not None
        if waybill and pickup.waybill and pickup.waybill != waybill:
            event.pickup, event.note = pickup, "waybill_superseded"
        else:
            try:
                with transaction.atomic():
                    event.note = pickup_apply_status(pickup=pickup, status=status, data=data, now=now)
                    event.applied = True
            except (TransitionNotAllowed, ConcurrentTransition):
                pickup.refresh_from_db()
                event.note = f"ignored: {status or 'no status'} while {pickup.state}"[:255]
            except DomainError as exc:  # the case refused (e.g. no longer awaiting its return)
                pickup.refresh_from_db()
                event.note = f"ignored: {exc.code}"[:255]
            event.pickup = pickup
            _alert_if_parcel_moves_on_closed_case(pickup, status)
        event.save(update_fields=["pickup", "note", "applied"])
        return WebhookResult(event_id, event.applied, False, event.note, pickup.pk, pickup.state)
