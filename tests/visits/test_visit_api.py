"""The visit endpoints (docs/visits.md): options, the actions by name, the provider's signed outcome webhook, and
the simulated provider over real HTTP."""

from __future__ import annotations

import pytest

from cases.models import AfterSalesCase, CaseEvent
from pickups.models import CourierEvent, RepairVisit, SimulatedCourierBooking
from pickups.simulator.service import simulated_visit_outcome
from pickups.visits import visit_assess
from tests import factories as f
from tests.pickups.helpers import signed_post


@pytest.mark.django_db
def test_options_then_book_then_cancel_through_the_api(api, visit_case, consumer):
    client = api(consumer)
    options = client.get(f"/api/v1/cases/{visit_case.pk}/visit/options/").json()
    assert options["eligible"] is True and options["reasons"] == [] and options["fee"] == "30.00"
    assert options["payer"] == "merchant" and options["consumer_fee"] == "0.00" and options["slots"]
    response = client.post(f"/api/v1/cases/{visit_case.pk}/actions/book_visit/",
                           {"slot": options["slots"][0]["id"]}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["state"] == "awaiting_visit" and "cancel_visit" in response.json()["available_actions"]
    again = client.get(f"/api/v1/cases/{visit_case.pk}/visit/options/").json()
    assert again["eligible"] is False and again["reasons"] == ["wrong_state"] and again["slots"] == []
    response = client.post(f"/api/v1/cases/{visit_case.pk}/actions/cancel_visit/", {}, format="json")
    assert response.status_code == 200 and response.json()["state"] == "awaiting_return"


@pytest.mark.django_db
def test_bad_input_is_a_4xx_with_a_code_and_writes_nothing(api, visit_case, consumer, merchant):
    client = api(consumer)
    url = f"/api/v1/cases/{visit_case.pk}/actions/book_visit/"
    for body, code in (({}, "required"), ({"slot": "abc"}, "invalid"), ({"slot": True}, "invalid"),
                       ({"slot": 999999}, "invalid")):
        response = client.post(url, body, format="json")
        assert response.status_code == 400 and response.json()["code"] == code, (body, response.content)
    assert api(merchant).post(url, {"slot": 1}, format="json").status_code == 403
    stranger = f.ConsumerFactory(username="eve")
    assert api(stranger).post(url, {"slot": 1}, format="json").status_code == 404
    assert api(stranger).get(f"/api/v1/cases/{visit_case.pk}/visit/options/").status_code == 404
    assert api(merchant).post(f"/api/v1/cases/{visit_case.pk}/actions/visit_repaired/", {},
                              format="json").status_code == 403
    assert AfterSalesCase.objects.get(pk=visit_case.pk).state == "awaiting_return"
    assert not RepairVisit.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(("status", "state"), [("visit_needs_workshop", "awaiting_return"),
                                               ("visit_not_repairable", "in_repair")])
def test_the_other_outcomes_by_webhook(client, visit_case, book, courier, status, state):
    case = book(visit_case)
    visit = RepairVisit.objects.get(case=case)
    body = {"event_id": f"o-{status}", "reference": visit.idempotency_key, "status": status,
            "at": "2026-12-03T10:00:00+08:00"}
    assert signed_post(client, body, secret=courier.secret).json()["applied"] is True
    assert AfterSalesCase.objects.get(pk=case.pk).state == state
    assert RepairVisit.objects.get(pk=visit.pk).state == status.removeprefix("visit_")


@pytest.mark.django_db
def test_the_providers_signed_outcome_completes_the_case_once(client, visit_case, book, courier):
    case = book(visit_case)
    visit = RepairVisit.objects.get(case=case)
    RepairVisit.objects.filter(pk=visit.pk).update(state="confirmed", reference="VIS000000000003")
    body = {"event_id": "v-1", "waybill": "VIS000000000003", "status": "visit_repaired", "note": "已修复",
            "at": "2026-12-03T10:00:00+08:00"}
    first = signed_post(client, body, secret=courier.secret).json()
    assert first["applied"] is True and first["duplicate"] is False
    assert AfterSalesCase.objects.get(pk=case.pk).state == "completed"
    replay = signed_post(client, body, secret=courier.secret).json()
    assert replay["duplicate"] is True
    assert CaseEvent.objects.filter(case=case, action="visit_repaired").count() == 1
    forged = signed_post(client, {**body, "event_id": "v-2"}, secret="not-the-secret")
    assert forged.status_code == 401
    unknown = signed_post(client, {**body, "event_id": "v-3", "waybill": "VIS999"}, secret=courier.secret).json()
    assert unknown["applied"] is False and unknown["note"] == "unknown_visit"
    assert CourierEvent.objects.filter(event_id="v-3", note="unknown_visit").exists()


def test_the_simulated_providers_outcome_is_deterministic_by_its_number():
    assert [simulated_visit_outcome(f"VIS00000000000{d}") for d in (0, 6, 7, 8, 9)] == [
        "visit_repaired", "visit_repaired", "visit_needs_workshop", "visit_needs_workshop", "visit_not_repairable"]


@pytest.mark.django_db(transaction=True)
def test_the_simulated_provider_books_and_reports_over_http(courier_live, visit_case, consumer, settings,
                                                            django_capture_on_commit_callbacks):
    from pickups.simulator.service import simulator_advance

    settings.PORTAL_BASE_URL = courier_live.base_url.rsplit("/simulated-courier/", 1)[0]
    slot = visit_assess(case=visit_case).slots[0]
    from cases import services

    with django_capture_on_commit_callbacks(execute=True):
        services.case_act(action="book_visit", case_id=visit_case.pk, actor=consumer, data={"slot": slot.pk})
    visit = RepairVisit.objects.get(case=visit_case)
    assert visit.state == "confirmed" and visit.reference.startswith("VIS")
    booking = SimulatedCourierBooking.objects.get(waybill=visit.reference)
    assert booking.status == "visit_booked" and booking.idempotency_key == visit.idempotency_key
    SimulatedCourierBooking.objects.filter(pk=booking.pk).update(next_step_at=booking.created_at)
    assert simulator_advance() == 1
    expected = {"visit_repaired": "completed", "visit_needs_workshop": "awaiting_return",
                "visit_not_repairable": "in_repair"}[simulated_visit_outcome(visit.reference)]
    assert AfterSalesCase.objects.get(pk=visit_case.pk).state == expected
