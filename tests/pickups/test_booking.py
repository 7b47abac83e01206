"""Booking, cancelling and rescheduling through the API: places, the consumer_ship clock, one active pickup."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.db.models import F, ProtectedError

from cases.models import AfterSalesCase, Deadline, Notification
from pickups import services
from pickups.models import Pickup, PickupEvent, SimulatedCourierBooking, Slot
from tests import factories as f
from tests.pickups.helpers import MONDAY_7AM, make_case
from tests.threads import join_all

pytestmark = pytest.mark.django_db


def first_slot(api, consumer, case):  # type: ignore[no-untyped-def]
    return api(consumer).get(f"/api/v1/cases/{case.pk}/pickup/options/").json()["slots"][0]


def book(api, consumer, case, slot, **extra):  # type: ignore[no-untyped-def]
    return api(consumer).post(f"/api/v1/cases/{case.pk}/pickup/", {"slot": slot, **extra}, format="json")


def consumer_ship(case):  # type: ignore[no-untyped-def]
    return Deadline.objects.get(case=case, name="consumer_ship", fired_at__isnull=True, cancelled_at__isnull=True)


def test_book_returns_the_pickup_and_takes_a_place(api, consumer, case, django_capture_on_commit_callbacks):
    slot = first_slot(api, consumer, case)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        r = book(api, consumer, case, slot["id"])
    assert r.status_code == 201, r.json()
    body = r.json()
    assert body["state"] == "requested" and body["courier"] == "simulated"
    assert body["slot"]["start"] == slot["start"] and body["slot"]["end"] == slot["end"]
    assert body["fee"] == "12.00" and body["payer"] == "consumer" and body["waybill"] is None
    assert body["address"] == {"region": "310104", "line": "漕溪北路 1 号", "contact": "张三", "phone": "13800005678"}
    assert [e["action"] for e in body["events"]] == ["book"] and body["events"][0]["source"] == "consumer"
    assert Slot.objects.get(pk=slot["id"]).booked == 1
    assert len(callbacks) == 1  # the dispatch task, enqueued only after commit
    remaining = api(consumer).get(f"/api/v1/cases/{case.pk}/pickup/options/").json()
    assert remaining["reasons"] == ["pickup_active"]


def test_case_json_embeds_the_pickup_with_a_masked_phone_for_others(api, consumer, merchant, case):
    book(api, consumer, case, first_slot(api, consumer, case)["id"])
    seen_by_merchant = api(merchant).get(f"/api/v1/cases/{case.pk}/").json()["pickup"]
    assert seen_by_merchant["state"] == "requested"
    assert seen_by_merchant["address"]["phone"] == "138****5678"


def test_a_landline_is_masked_the_same_way_in_the_api_and_on_the_merchant_page(api, consumer, merchant, case):
    r = book(api, consumer, case, first_slot(api, consumer, case)["id"], address={"phone": "0571-88880001"})
    assert r.status_code == 201, r.json()
    seen_by_merchant = api(merchant).get(f"/api/v1/cases/{case.pk}/").json()["pickup"]
    assert seen_by_merchant["address"]["phone"] == "057****0001"  # portal.masking.mask_phone, as the page does


def test_address_override(api, consumer, case):
    slot = first_slot(api, consumer, case)
    r = book(api, consumer, case, slot["id"], address={"line": "天钥桥路 100 号", "phone": "13911112222"})
    assert r.status_code == 201
    assert r.json()["address"]["line"] == "天钥桥路 100 号" and r.json()["address"]["region"] == "310104"
    assert r.json()["address"]["phone"] == "13911112222"


def test_slot_of_another_city_is_refused(api, consumer, case):
    slot = first_slot(api, consumer, case)
    r = book(api, consumer, case, slot["id"], address={"region": "330106"})
    assert r.status_code == 400 and r.json()["field"] == "slot"


def test_bad_slot_values(api, consumer, case):
    assert book(api, consumer, case, None).json()["field"] == "slot"
    assert book(api, consumer, case, "abc").status_code == 400
    assert book(api, consumer, case, 999999).status_code == 400
    assert Pickup.objects.count() == 0


def test_full_slot_is_409_no_slot(api, consumer, case):
    slot = first_slot(api, consumer, case)
    Slot.objects.filter(pk=slot["id"]).update(booked=10)
    r = book(api, consumer, case, slot["id"])
    assert r.status_code == 409 and r.json()["code"] == "no_slot"
    assert Pickup.objects.count() == 0


def test_ineligible_booking_answers_the_first_reason(api, consumer, merchant, regions, shop):
    heavy = f.ProductFactory(shop=shop, weight_grams=31000)
    case = make_case(consumer, merchant, f.OrderItemFactory(order=f.OrderFactory(consumer=consumer, shop=shop),
                                                            product=heavy))
    slot = Slot.objects.order_by("pk").first()
    assert slot is None  # nothing offered yet: the booking is judged before any slot
    r = book(api, consumer, case, 1)
    assert r.status_code == 400 and r.json()["code"] == "overweight" and r.json()["reasons"] == ["overweight"]


def test_booking_in_the_wrong_state_is_409(api, consumer, merchant, case):
    slot = first_slot(api, consumer, case)
    api(consumer).post(f"/api/v1/cases/{case.pk}/actions/ship_return/",
                       {"carrier": "SF", "tracking_number": "SF1"}, format="json")
    r = book(api, consumer, case, slot["id"])
    assert r.status_code == 409 and r.json()["code"] == "wrong_state"


def test_only_one_active_pickup_per_case(api, consumer, case):
    slot = first_slot(api, consumer, case)
    assert book(api, consumer, case, slot["id"]).status_code == 201
    r = book(api, consumer, case, slot["id"])
    assert r.status_code == 409 and r.json()["code"] == "pickup_active"
    assert Pickup.objects.filter(case=case).count() == 1 and Slot.objects.get(pk=slot["id"]).booked == 1


def test_only_the_consumer_books_or_cancels(api, consumer, merchant, agent, case):
    slot = first_slot(api, consumer, case)
    assert book(api, merchant, case, slot["id"]).status_code == 403
    assert book(api, f.ConsumerFactory(), case, slot["id"]).status_code == 404
    pickup_id = book(api, consumer, case, slot["id"]).json()["id"]
    assert api(merchant).post(f"/api/v1/pickups/{pickup_id}/cancel/").status_code == 403
    assert api(agent).post(f"/api/v1/pickups/{pickup_id}/cancel/").status_code == 403
    assert api(f.ConsumerFactory()).post(f"/api/v1/pickups/{pickup_id}/cancel/").status_code == 404
    assert api(consumer).post("/api/v1/pickups/424242/cancel/").status_code == 404


def test_booking_extends_consumer_ship_to_slot_end_plus_24h(api, consumer, merchant, regions, item):
    with time_machine.travel(MONDAY_7AM - timedelta(days=6, hours=23), tick=False):
        case = make_case(consumer, merchant, item)  # consumer_ship due Monday 07:00 + 1 h
    original = consumer_ship(case).due_at
    with time_machine.travel(MONDAY_7AM, tick=False):
        slots = api(consumer).get(f"/api/v1/cases/{case.pk}/pickup/options/").json()["slots"]
        last = slots[-1]
        assert book(api, consumer, case, last["id"]).status_code == 201
    slot = Slot.objects.get(pk=last["id"])
    assert consumer_ship(case).due_at == slot.end + timedelta(hours=24) > original
    assert AfterSalesCase.objects.get(pk=case.pk).deadline_due_at == slot.end + timedelta(hours=24)
    assert Pickup.objects.get(case=case).original_due_at == original


def test_booking_never_shortens_consumer_ship(api, consumer, case):
    due = consumer_ship(case).due_at  # 7 days away, later than any slot + 24 h
    assert book(api, consumer, case, first_slot(api, consumer, case)["id"]).status_code == 201
    assert consumer_ship(case).due_at == due


def test_cancel_gives_back_the_place_and_the_extra_days(api, consumer, merchant, regions, item):
    with time_machine.travel(MONDAY_7AM - timedelta(days=6, hours=23), tick=False):
        case = make_case(consumer, merchant, item)
    original = consumer_ship(case).due_at  # Monday 08:00
    with time_machine.travel(MONDAY_7AM, tick=False):
        slot = api(consumer).get(f"/api/v1/cases/{case.pk}/pickup/options/").json()["slots"][-1]
        pickup = book(api, consumer, case, slot["id"]).json()
        r = api(consumer).post(f"/api/v1/pickups/{pickup['id']}/cancel/")
    assert r.status_code == 200 and r.json()["state"] == "cancelled"
    assert [e["action"] for e in r.json()["events"]] == ["book", "cancel"]
    assert Slot.objects.get(pk=slot["id"]).booked == 0
    assert consumer_ship(case).due_at == max(original, MONDAY_7AM + timedelta(hours=24))
    again = api(consumer).post(f"/api/v1/pickups/{pickup['id']}/cancel/")
    assert again.status_code == 409 and again.json()["code"] == "invalid_transition"


def test_cancel_keeps_the_original_due_time_when_it_is_later(api, consumer, case):
    original = consumer_ship(case).due_at  # 7 days away
    pickup = book(api, consumer, case, first_slot(api, consumer, case)["id"]).json()
    api(consumer).post(f"/api/v1/pickups/{pickup['id']}/cancel/")
    assert consumer_ship(case).due_at == original


def test_a_new_booking_after_cancelling(api, consumer, case):
    slot = first_slot(api, consumer, case)
    pickup = book(api, consumer, case, slot["id"]).json()
    api(consumer).post(f"/api/v1/pickups/{pickup['id']}/cancel/")
    r = book(api, consumer, case, slot["id"])
    assert r.status_code == 201 and r.json()["id"] != pickup["id"]
    assert api(consumer).get(f"/api/v1/cases/{case.pk}/").json()["pickup"]["id"] == r.json()["id"]


def test_reschedule_after_failure(api, consumer, case):
    slots = api(consumer).get(f"/api/v1/cases/{case.pk}/pickup/options/").json()["slots"]
    pickup = book(api, consumer, case, slots[0]["id"]).json()
    assert api(consumer).post(f"/api/v1/pickups/{pickup['id']}/reschedule/", {"slot": slots[1]["id"]},
                              format="json").status_code == 409  # only a failed pickup is rescheduled
    old_key = Pickup.objects.get(pk=pickup["id"]).idempotency_key
    services.pickup_fail(pickup_id=pickup["id"], reason="no_show")
    assert Notification.objects.filter(user=consumer, kind="pickup_failed").count() == 1
    assert Slot.objects.get(pk=slots[0]["id"]).booked == 0
    r = api(consumer).post(f"/api/v1/pickups/{pickup['id']}/reschedule/", {"slot": slots[1]["id"]}, format="json")
    assert r.status_code == 200, r.json()
    assert r.json()["state"] == "requested" and r.json()["slot"]["start"] == slots[1]["start"]
    assert [e["action"] for e in r.json()["events"]] == ["book", "fail", "reschedule"]
    fresh = Pickup.objects.get(pk=pickup["id"])
    assert fresh.idempotency_key != old_key and Slot.objects.get(pk=slots[1]["id"]).booked == 1


def test_failure_releases_the_deadline(api, consumer, merchant, regions, item):
    with time_machine.travel(MONDAY_7AM - timedelta(days=6, hours=23), tick=False):
        case = make_case(consumer, merchant, item)
    original = consumer_ship(case).due_at
    with time_machine.travel(MONDAY_7AM, tick=False):
        slot = api(consumer).get(f"/api/v1/cases/{case.pk}/pickup/options/").json()["slots"][-1]
        pickup = book(api, consumer, case, slot["id"]).json()
    assert consumer_ship(case).due_at > original + timedelta(days=2)
    failed_at = MONDAY_7AM + timedelta(hours=3)
    services.pickup_fail(pickup_id=pickup["id"], reason="no_show", now=failed_at)
    assert consumer_ship(case).due_at == failed_at + timedelta(hours=24)
    assert PickupEvent.objects.filter(pickup_id=pickup["id"], action="fail", source="system").count() == 1


# --- the race for the last place ------------------------------------------------------------------

def race_for(slot: Slot, consumers: list, cases: list) -> list[str]:
    """Both consumers book the same slot at the same moment, each on its own connection."""
    barrier = threading.Barrier(len(consumers))
    outcomes: list[str] = []

    def run(consumer, case):  # type: ignore[no-untyped-def]
        try:
            barrier.wait()
            services.pickup_book(case_id=case.pk, actor=consumer, slot_id=slot.pk)
            outcomes.append("booked")
        except services.PickupError as exc:
            outcomes.append(f"{exc.status} {exc.code}")
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=pair) for pair in zip(consumers, cases, strict=True)]
    for t in threads:
        t.start()
    join_all(threads)
    return outcomes


@pytest.mark.race
@pytest.mark.django_db(transaction=True)
def test_two_bookings_race_for_the_last_place(postgres, courier_live, regions, merchant, shop):
    consumers = [f.ConsumerFactory(username=f"racer{i}") for i in range(2)]
    cases = [make_case(c, merchant, f.OrderItemFactory(order=f.OrderFactory(consumer=c, shop=shop)))
             for c in consumers]
    assessment = services.pickup_assess(case=cases[0])
    slot = assessment.slots[0]
    Slot.objects.filter(pk=slot.pk).update(booked=slot.capacity - 1)
    outcomes = race_for(slot, consumers, cases)
    assert sorted(outcomes) == ["409 no_slot", "booked"]
    assert Slot.objects.get(pk=slot.pk).booked == slot.capacity
    assert Pickup.objects.filter(slot=slot).count() == 1
    # the winner's dispatch ran after its commit, over HTTP to the simulated courier
    assert Pickup.objects.get(slot=slot).state == "dispatched"
    assert SimulatedCourierBooking.objects.count() == 1


@pytest.mark.race
@pytest.mark.django_db(transaction=True)
def test_one_consumer_double_submitting_gets_one_pickup(postgres, courier_live, regions, consumer, merchant, item):
    case = make_case(consumer, merchant, item)
    slot = services.pickup_assess(case=case).slots[0]
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def run() -> None:
        try:
            barrier.wait()
            services.pickup_book(case_id=case.pk, actor=consumer, slot_id=slot.pk)
            outcomes.append("booked")
        except services.PickupError as exc:
            outcomes.append(exc.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    join_all(threads)
    assert sorted(outcomes) == ["booked", "pickup_active"]
    assert Pickup.objects.filter(case=case).count() == 1 and Slot.objects.get(pk=slot.pk).booked == 1


def test_refusals_speak_the_users_language(api, consumer, case):
    slot = first_slot(api, consumer, case)
    Slot.objects.filter(pk=slot["id"]).update(booked=10)
    client = api(consumer)
    r = client.post(f"/api/v1/cases/{case.pk}/pickup/", {"slot": slot["id"]}, format="json",
                    HTTP_ACCEPT_LANGUAGE="en")
    assert r.status_code == 409 and r.json()["detail"] == "This slot is full; please choose another"
    r = client.post(f"/api/v1/cases/{case.pk}/pickup/", {"slot": slot["id"]}, format="json",
                    HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert r.json()["detail"] == "该时段已约满，请选择其他时段"


@pytest.mark.race
@pytest.mark.django_db(transaction=True)
def test_last_place_race_repeated(postgres, courier_live, regions, merchant, shop):
    """The race for the last place, many rounds (SOAK=1: 1,000): never overbooked, one winner each time."""
    import os

    rounds = int(os.environ.get("RACE_ROUNDS", "1000" if os.environ.get("SOAK") else "10"))
    for round_no in range(rounds):
        consumers = [f.ConsumerFactory(username=f"r{round_no}-{i}") for i in range(2)]
        cases = [make_case(c, merchant, f.OrderItemFactory(order=f.OrderFactory(consumer=c, shop=shop)))
                 for c in consumers]
        slot = services.pickup_assess(case=cases[0]).slots[round_no % 5]
        Slot.objects.filter(pk=slot.pk).update(booked=F("capacity") - 1)
        outcomes = race_for(slot, consumers, cases)
        assert sorted(outcomes) == ["409 no_slot", "booked"], (round_no, outcomes)
        fresh = Slot.objects.get(pk=slot.pk)
        assert fresh.booked == fresh.capacity
        Slot.objects.filter(pk=slot.pk).update(booked=0)


def test_pickup_events_are_append_only(api, consumer, case):
    book(api, consumer, case, first_slot(api, consumer, case)["id"])
    event = PickupEvent.objects.get(pickup__case=case)
    event.action = "tampered"
    with pytest.raises(PermissionError):
        event.save()
    with pytest.raises(PermissionError):
        event.delete()
    with pytest.raises(ProtectedError):
        Pickup.objects.filter(case=case).delete()  # a pickup's history outlives any attempt to delete it


def test_database_refuses_pickup_event_changes_on_postgresql(api, consumer, case, postgres):
    from django.db import DatabaseError, transaction

    book(api, consumer, case, first_slot(api, consumer, case)["id"])
    events = PickupEvent.objects.filter(pickup__case=case)
    with pytest.raises(DatabaseError), transaction.atomic():
        events.update(action="tampered")
    with pytest.raises(DatabaseError), transaction.atomic():
        events._raw_delete(events.db)  # below the ORM's PROTECT check: only the trigger stands in the way
    assert list(events.values_list("action", flat=True)) == ["book"]
