"""Dispatch to the simulated courier over real HTTP (pytest-django's live server), with the task bodies run
eagerly: idempotent booking, retries with back-off, giving up, timeouts, cancelling, and the courier's clock."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from cases.models import AfterSalesCase, CaseEvent, Notification
from pickups import services
from pickups.couriers import BookingRequest, gateway_for
from pickups.models import Pickup, SimulatedCourierBooking, SimulatedCourierControl
from pickups.simulator.service import control_set
from pickups.sweep import pickups_sweep
from pickups.tasks import dispatch_pickup

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def book(courier_live, case, consumer):  # type: ignore[no-untyped-def]
    def run() -> Pickup:
        slot = services.pickup_assess(case=case).slots[0]
        pickup = services.pickup_book(case_id=case.pk, actor=consumer, slot_id=slot.pk)
        return Pickup.objects.get(pk=pickup.pk)

    return run


@pytest.fixture(autouse=True)
def no_eager_propagation(monkeypatch):  # type: ignore[no-untyped-def]
    """A task that gives up ends like it would in a worker instead of raising into the test. Eager retries run
    at once (the back-off countdown is ignored here; the worker test covers it)."""
    from portal.celery import app

    monkeypatch.setitem(app.conf, "task_eager_propagates", False)


def test_booking_dispatches_over_http(book):
    pickup = book()
    assert pickup.state == "dispatched" and pickup.waybill.startswith("SIM")
    booking = SimulatedCourierBooking.objects.get()
    assert booking.waybill == pickup.waybill and booking.idempotency_key == pickup.idempotency_key
    assert booking.callback_url.endswith("/api/v1/couriers/simulated/webhook/")
    assert pickup.dispatch_attempts == 1
    assert [e.action for e in pickup.events.all()] == ["book", "dispatch"]


def test_dispatch_again_never_books_twice(book, courier_live):
    pickup = book()
    dispatch_pickup.apply(args=[pickup.pk])  # a redelivered task: the state is re-checked
    assert SimulatedCourierBooking.objects.count() == 1
    request = BookingRequest(idempotency_key=pickup.idempotency_key, reference="x", region="310104", address_line="",
                             contact="", phone="", weight_grams=1, slot_start=pickup.slot.start,
                             slot_end=pickup.slot.end, callback_url="http://127.0.0.1:9/")
    replay = gateway_for(courier_live).book(request)  # a worker killed after the courier answered
    assert replay.replayed is True and replay.waybill == pickup.waybill
    assert SimulatedCourierBooking.objects.count() == 1


def test_transient_failures_are_retried_until_it_books(book):
    control_set({"fail_next": 3})
    pickup = book()
    assert pickup.state == "dispatched"
    assert pickup.dispatch_attempts == 4
    assert SimulatedCourierControl.current().book_calls == 4
    assert SimulatedCourierBooking.objects.count() == 1


def test_giving_up_fails_the_pickup_and_tells_the_consumer(book, consumer):
    control_set({"fail_next": 100})
    pickup = book()
    assert pickup.state == "failed" and pickup.failure_reason == "dispatch_failed"
    assert pickup.dispatch_attempts == dispatch_pickup.max_retries + 1  # the first try and every retry
    assert Pickup.objects.get(pk=pickup.pk).events.filter(action="fail").count() == 1
    assert SimulatedCourierBooking.objects.count() == 0
    assert Notification.objects.filter(user=consumer, kind="pickup_failed").count() == 1


def test_a_timed_out_booking_is_replayed_not_repeated(book, settings):
    settings.PICKUP_COURIER_TIMEOUT_SECONDS = 0.5
    settings.SIMULATED_COURIER_TIMEOUT_SLEEP = 1.0
    control_set({"timeout_next": 1})
    pickup = book()
    assert pickup.state == "dispatched" and pickup.dispatch_attempts == 2  # the first answer came too late
    booking = SimulatedCourierBooking.objects.get()
    assert booking.waybill == pickup.waybill


def test_cancel_after_dispatch_cancels_at_the_courier(book, api, consumer):
    pickup = book()
    r = api(consumer).post(f"/api/v1/pickups/{pickup.pk}/cancel/")
    assert r.status_code == 200 and r.json()["state"] == "cancelled"
    assert SimulatedCourierBooking.objects.get().status == "cancelled"


def test_the_simulated_courier_walks_a_pickup_to_delivered(book, case, settings, live_server):
    settings.SIMULATED_COURIER_SPEED_SECONDS = 0
    settings.PORTAL_BASE_URL = live_server.url
    pickup = book()
    for _step in range(4):  # dispatched, picked_up, in_transit, delivered: one step per sweep
        pickups_sweep(now=timezone.now() + timedelta(seconds=1))
    pickup.refresh_from_db()
    assert pickup.state == "delivered"
    assert AfterSalesCase.objects.get(pk=case.pk).state == "return_in_transit"
    assert CaseEvent.objects.get(case=case, action="ship_return").payload["tracking_number"] == pickup.waybill
    assert SimulatedCourierBooking.objects.get().status == "delivered"
    assert pickups_sweep()["simulated_steps"] == 0  # nothing left to do


@pytest.mark.parametrize(("behaviour", "state", "kind"), [
    ("no_show", "failed", "pickup_failed"), ("inspection_mismatch", "inspection_failed", "pickup_inspection_failed")])
def test_scripted_misbehaviour(book, consumer, settings, live_server, behaviour, state, kind):
    settings.SIMULATED_COURIER_SPEED_SECONDS = 0
    settings.PORTAL_BASE_URL = live_server.url
    control_set({"behaviour": behaviour})
    pickup = book()
    for _step in range(3):
        pickups_sweep(now=timezone.now() + timedelta(seconds=1))
    pickup.refresh_from_db()
    assert pickup.state == state
    assert Notification.objects.filter(user=consumer, kind=kind).count() == 1


def test_sweep_fails_a_pickup_the_courier_never_came_for(book, settings):
    settings.SIMULATED_COURIER_ENABLED = False
    pickup = book()
    result = pickups_sweep(now=pickup.slot.end + timedelta(hours=7))
    pickup.refresh_from_db()
    assert result["no_shows"] == 1 and pickup.state == "failed" and pickup.failure_reason == "no_show"


def test_simulator_api_refuses_unsigned_calls(client, courier_live):
    assert client.post("/simulated-courier/bookings/", data=b"{}", content_type="application/json").status_code == 401
    assert client.get("/simulated-courier/control/").status_code == 401


def test_a_cancellation_the_courier_never_got_is_sent_again_by_the_outbox_sweep(book, api, consumer, courier_live):
    from portal.outbox import resend_outgoing

    pickup = book()
    live_url = courier_live.base_url
    type(courier_live).objects.filter(pk=courier_live.pk).update(base_url="http://127.0.0.1:9/simulated-courier/")
    r = api(consumer).post(f"/api/v1/pickups/{pickup.pk}/cancel/")
    assert r.status_code == 200 and r.json()["state"] == "cancelled"
    assert SimulatedCourierBooking.objects.get().status != "cancelled"  # the courier never heard of it
    assert Pickup.objects.get(pk=pickup.pk).courier_cancelled_at is None
    type(courier_live).objects.filter(pk=courier_live.pk).update(base_url=live_url)
    assert resend_outgoing()["courier_cancellations"] == 0  # not yet stale: its own retries may still land
    later = timezone.now() + timedelta(minutes=5)
    assert resend_outgoing(now=later)["courier_cancellations"] == 1
    assert SimulatedCourierBooking.objects.get().status == "cancelled"
    assert Pickup.objects.get(pk=pickup.pk).courier_cancelled_at is not None
    assert resend_outgoing(now=later)["courier_cancellations"] == 0  # told once is enough
