"""The courier webhook: signatures, staleness, replays, ordering, and every pickup transition it drives."""

from __future__ import annotations

import json
import time

import pytest

from cases.models import AfterSalesCase, CaseEvent, Notification
from pickups import services
from pickups.models import CourierEvent, Pickup, PickupEvent, Slot
from portal.models import OutboxMessage
from tests.pickups.helpers import signed_post

pytestmark = pytest.mark.django_db


@pytest.fixture
def pickup(case, consumer):  # type: ignore[no-untyped-def]
    slot = services.pickup_assess(case=case).slots[0]
    return services.pickup_book(case_id=case.pk, actor=consumer, slot_id=slot.pk)


@pytest.fixture
def dispatched(pickup):  # type: ignore[no-untyped-def]
    return services.pickup_record_dispatch(pickup_id=pickup.pk, idempotency_key=pickup.idempotency_key,
                                           waybill="SIM000000000001", source="system")


def event(event_id="e1", status="picked_up", waybill="SIM000000000001", **extra):  # type: ignore[no-untyped-def]
    return {"event_id": event_id, "waybill": waybill, "status": status, "at": "2026-11-23T10:00:00+08:00", **extra}


# --- authentication ---------------------------------------------------------------------------------

def test_missing_or_bad_signature_is_401(client, courier, dispatched):
    raw = json.dumps(event()).encode()
    r = client.post("/api/v1/couriers/simulated/webhook/", data=raw, content_type="application/json")
    assert r.status_code == 401 and r.json()["code"] == "invalid_signature"
    r = signed_post(client, event(), secret="not-the-secret")
    assert r.status_code == 401
    r = signed_post(client, event(), secret=courier.secret, signature="00" * 32)
    assert r.status_code == 401
    r = signed_post(client, event(), secret=courier.secret, timestamp="abc")  # type: ignore[arg-type]
    assert r.status_code == 401
    assert CourierEvent.objects.count() == 0
    assert Pickup.objects.get(pk=dispatched.pk).state == "dispatched"


def test_signature_covers_the_body(client, courier, dispatched):
    ts = int(time.time())
    from pickups.signing import sign

    good = sign(courier.secret, ts, json.dumps(event(status="picked_up")).encode())
    r = signed_post(client, event(status="delivered"), secret=courier.secret, timestamp=ts, signature=good)
    assert r.status_code == 401


def test_stale_and_far_future_timestamps_are_401(client, courier, dispatched):
    now = int(time.time())
    r = signed_post(client, event(), secret=courier.secret, timestamp=now - 400)
    assert r.status_code == 401 and r.json()["code"] == "stale_timestamp"
    r = signed_post(client, event(), secret=courier.secret, timestamp=now + 400)
    assert r.status_code == 401
    assert signed_post(client, event(), secret=courier.secret, timestamp=now - 200).status_code == 200


def test_unknown_courier_is_401_like_a_bad_signature(client, courier):
    r = signed_post(client, event(), secret=courier.secret, courier="nobody")
    assert r.status_code == 401 and r.json()["code"] == "invalid_signature"


def test_webhook_needs_no_session_or_csrf(courier, dispatched):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    assert signed_post(strict, event(), secret=courier.secret).status_code == 200


def test_malformed_body_is_400_never_500(client, courier, dispatched):
    for raw in (b"{not json", b"[1, 2]", b"\xff\xfe", json.dumps({"status": "picked_up"}).encode(),
                json.dumps({"event_id": {"x": 1}}).encode()):
        r = signed_post(client, raw, secret=courier.secret)
        assert r.status_code == 400, raw
        assert set(r.json()) >= {"code", "detail"}


# --- replays and ordering -------------------------------------------------------------------------

def test_a_repeated_event_id_is_a_no_op(client, courier, dispatched, case):
    first = signed_post(client, event(), secret=courier.secret)
    assert first.status_code == 200 and first.json()["applied"] is True
    again = signed_post(client, event(), secret=courier.secret)
    assert again.status_code == 200 and again.json()["duplicate"] is True
    assert CourierEvent.objects.count() == 1
    assert PickupEvent.objects.filter(pickup=dispatched, action="pick_up").count() == 1
    assert CaseEvent.objects.filter(case=case, action="ship_return").count() == 1


def test_out_of_order_event_is_stored_and_ignored(client, courier, dispatched):
    r = signed_post(client, event(event_id="e9", status="delivered"), secret=courier.secret)
    assert r.status_code == 200 and r.json()["applied"] is False
    stored = CourierEvent.objects.get(event_id="e9")
    assert stored.applied is False and stored.pickup_id == dispatched.pk and "ignored" in stored.note
    assert Pickup.objects.get(pk=dispatched.pk).state == "dispatched"


def test_unknown_status_and_unknown_waybill_are_stored_and_ignored(client, courier, dispatched):
    r = signed_post(client, event(event_id="u1", status="teleported"), secret=courier.secret)
    assert r.status_code == 200 and r.json()["applied"] is False
    r = signed_post(client, event(event_id="u2", waybill="NOPE"), secret=courier.secret)
    assert r.status_code == 200 and r.json()["applied"] is False and r.json()["note"] == "unknown_waybill"
    assert CourierEvent.objects.filter(applied=False).count() == 2


# --- every transition --------------------------------------------------------------------------------

def test_full_path_requested_to_delivered(client, courier, consumer, case, pickup, courier_says):
    r = courier_says(pickup, "dispatched", waybill="SIM777")
    assert r.json()["applied"] is True and r.json()["state"] == "dispatched"
    pickup.refresh_from_db()
    assert pickup.waybill == "SIM777"
    assert courier_says(pickup, "picked_up").json()["state"] == "picked_up"
    fresh = AfterSalesCase.objects.get(pk=case.pk)
    assert fresh.state == "return_in_transit"
    ship = CaseEvent.objects.get(case=case, action="ship_return")
    assert ship.role == "system" and ship.actor_username is None
    assert ship.payload == {"carrier": courier.name, "tracking_number": "SIM777", "pickup": True}
    assert courier_says(pickup, "in_transit").json()["state"] == "in_transit"
    assert courier_says(pickup, "delivered").json()["state"] == "delivered"
    actions = list(PickupEvent.objects.filter(pickup=pickup).values_list("action", "source"))
    assert actions == [("book", "consumer"), ("dispatch", "courier"), ("pick_up", "courier"),
                       ("depart", "courier"), ("deliver", "courier")]


def test_picked_up_and_ship_return_are_one_transaction(client, courier, consumer, case, dispatched, api):
    # a case that is no longer awaiting its return while its pickup is still dispatched (data from before the
    # withdrawal cancelled pickups at once): the case refuses ship_return, and the pickup's move rolls back
    AfterSalesCase.objects.filter(pk=case.pk).update(state="closed", closure_reason="withdrawn")
    r = signed_post(client, event(event_id="p1"), secret=courier.secret)
    assert r.status_code == 200 and r.json()["applied"] is False
    assert Pickup.objects.get(pk=dispatched.pk).state == "dispatched"  # rolled back with the case's refusal
    assert not PickupEvent.objects.filter(pickup=dispatched, action="pick_up").exists()


def test_withdrawal_cancels_a_live_pickup_at_once_and_a_later_courier_event_alerts_staff(
        client, courier, consumer, case, dispatched, api, django_capture_on_commit_callbacks, agent):
    with django_capture_on_commit_callbacks() as callbacks:
        r = api(consumer).post(f"/api/v1/cases/{case.pk}/actions/withdraw/")
    assert r.status_code == 200 and r.json()["pickup"]["state"] == "cancelled"
    pickup = Pickup.objects.get(pk=dispatched.pk)
    assert pickup.state == "cancelled"  # in the withdrawal's own transaction, not at a later sweep
    assert PickupEvent.objects.filter(pickup=pickup, action="cancel", source="system").exists()
    tasks = [t for cb in callbacks for t in getattr(cb, "tasks", ())]
    assert "pickups.tasks.cancel_courier_booking" in tasks, tasks  # the courier is asked to cancel now
    assert OutboxMessage.objects.filter(task="pickups.tasks.cancel_courier_booking", args=[pickup.pk]).exists()
    # the parcel moves anyway: staff are told, since it may be on its way to the merchant
    r = signed_post(client, event(event_id="late-1"), secret=courier.secret)
    assert r.status_code == 200 and r.json()["applied"] is False
    assert Notification.objects.filter(user=agent, case=case, kind="pickup_after_close").exists()


def test_inspection_failed_tells_the_consumer_why(client, courier, consumer, case, dispatched):
    r = signed_post(client, event(event_id="i1", status="inspection_failed", reason="数量不符：少 1 件"),
                    secret=courier.secret)
    assert r.json()["state"] == "inspection_failed"
    note = Notification.objects.get(user=consumer, kind="pickup_inspection_failed")
    assert "数量不符：少 1 件" in note.display()
    assert AfterSalesCase.objects.get(pk=case.pk).state == "awaiting_return"


def test_no_show_fails_and_offers_a_new_slot(client, courier, consumer, case, dispatched, api):
    r = signed_post(client, event(event_id="n1", status="no_show"), secret=courier.secret)
    assert r.json()["state"] == "failed"
    assert Notification.objects.filter(user=consumer, kind="pickup_failed").exists()
    assert Slot.objects.get(pk=dispatched.slot_id).booked == 0
    options = api(consumer).get(f"/api/v1/cases/{case.pk}/pickup/options/").json()
    assert options["eligible"] is True  # a failed pickup does not block a new one


def test_cancel_after_dispatch_is_allowed_before_pickup(api, consumer, dispatched, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        r = api(consumer).post(f"/api/v1/pickups/{dispatched.pk}/cancel/")
    assert r.status_code == 200 and r.json()["state"] == "cancelled"
    assert len(callbacks) == 1  # the courier is told after commit


def test_no_cancel_once_picked_up(api, client, courier, consumer, dispatched):
    signed_post(client, event(event_id="c1"), secret=courier.secret)
    r = api(consumer).post(f"/api/v1/pickups/{dispatched.pk}/cancel/")
    assert r.status_code == 409 and r.json()["code"] == "invalid_transition"


def test_transitions_are_protected(dispatched):
    with pytest.raises(AttributeError):
        dispatched.state = "delivered"


def test_withdrawal_cancels_its_pickup_before_any_sweep(api, consumer, case, pickup, settings):
    from pickups.sweep import pickups_sweep

    settings.SIMULATED_COURIER_ENABLED = False
    api(consumer).post(f"/api/v1/cases/{case.pk}/actions/withdraw/")
    fresh = Pickup.objects.get(pk=pickup.pk)
    assert fresh.state == "cancelled" and Slot.objects.get(pk=fresh.slot_id).booked == 0
    assert pickups_sweep()["orphans_cancelled"] == 0  # nothing left for the sweep's safety net


def test_sweep_cancels_a_pickup_whose_case_moved_on_without_it(api, consumer, case, pickup, settings):
    from pickups.sweep import pickups_sweep

    settings.SIMULATED_COURIER_ENABLED = False
    AfterSalesCase.objects.filter(pk=case.pk).update(state="closed", closure_reason="withdrawn")  # old data
    assert pickups_sweep()["orphans_cancelled"] == 1
    fresh = Pickup.objects.get(pk=pickup.pk)
    assert fresh.state == "cancelled" and Slot.objects.get(pk=fresh.slot_id).booked == 0
    assert fresh.events.last().source == "system"
    assert pickups_sweep()["orphans_cancelled"] == 0
