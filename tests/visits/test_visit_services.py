"""On-site repair visits (docs/visits.md): booking, cancelling, the technician's outcomes, the clock, and who may
do what — through the services and the one dispatcher."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from cases import services
from cases.models import AfterSalesCase, CaseEvent, Deadline
from cases.permissions import available_actions
from cases.sweep import deadlines_sweep
from pickups.models import RepairVisit, Slot
from pickups.visits import visit_assess, visit_outcome_apply
from portal.errors import DomainError as CaseError
from tests import factories as f
from tests.visits.conftest import repair_case

pytestmark = pytest.mark.django_db


def running(case: AfterSalesCase) -> Deadline:
    return Deadline.objects.get(case=case, fired_at__isnull=True, cancelled_at__isnull=True)


def test_a_repair_on_an_on_site_product_offers_visit_slots_with_their_own_places(visit_case, courier, consumer):
    options = visit_assess(case=visit_case)
    assert options.eligible and options.fee == Decimal("30.00") and options.payer == "merchant"
    assert {s.kind for s in options.slots} == {"visit"}
    assert {s.capacity for s in options.slots} == {courier.visit_capacity_per_slot}
    assert "book_visit" in available_actions(consumer, AfterSalesCase.objects.get(pk=visit_case.pk))


def test_booking_moves_the_case_to_awaiting_visit_with_the_technician_clock(visit_case, book, consumer):
    case = book(visit_case)
    assert case.state == "awaiting_visit" and case.deadline_name == "technician_visit"
    clock = running(case)
    assert clock.duration_seconds == 5 * 24 * 3600 and clock.state == "awaiting_visit"
    visit = RepairVisit.objects.get(case=case)
    assert visit.state == "requested" and visit.shop_id == case.shop_id and visit.slot.kind == "visit"
    assert Slot.objects.get(pk=visit.slot_id).booked == 1
    event = CaseEvent.objects.filter(case=case).last()
    assert (event.action, event.role, event.payload["visit"], event.payload["fee"]) == (
        "book_visit", "consumer", visit.pk, "30.00")


@pytest.mark.parametrize(("on_site", "kind", "reason"), [(False, "repair", "quality_issue"),
                                                         (True, "return_refund", "quality_issue")])
def test_no_visit_for_a_product_without_on_site_service_or_another_kind(regions, courier, consumer, merchant, shop,
                                                                         on_site, kind, reason):
    case = repair_case(consumer, merchant, shop, on_site=on_site, kind=kind, reason=reason)
    with pytest.raises(CaseError) as exc:
        services.case_act(action="book_visit", case_id=case.pk, actor=consumer, data={"slot": 1})
    assert (exc.value.code, exc.value.status) == ("visit_not_offered", 400)
    assert AfterSalesCase.objects.get(pk=case.pk).state == "awaiting_return"
    assert not RepairVisit.objects.exists()
    assert "book_visit" not in available_actions(consumer, AfterSalesCase.objects.get(pk=case.pk))


def test_a_pickup_slot_is_not_a_visit_slot(visit_case, consumer):
    from pickups.services import pickup_assess

    pickup_slot = pickup_assess(case=visit_case).slots[0]
    with pytest.raises(CaseError) as exc:
        services.case_act(action="book_visit", case_id=visit_case.pk, actor=consumer, data={"slot": pickup_slot.pk})
    assert (exc.value.code, exc.value.field) == ("invalid", "slot")
    assert Slot.objects.get(pk=pickup_slot.pk).booked == 0 and not RepairVisit.objects.exists()


def test_a_full_visit_slot_is_no_slot_and_nothing_is_written(visit_case, consumer):
    slot = visit_assess(case=visit_case).slots[0]
    Slot.objects.filter(pk=slot.pk).update(booked=slot.capacity)
    with pytest.raises(CaseError) as exc:
        services.case_act(action="book_visit", case_id=visit_case.pk, actor=consumer, data={"slot": slot.pk})
    assert (exc.value.code, exc.value.status) == ("no_slot", 409)
    assert AfterSalesCase.objects.get(pk=visit_case.pk).state == "awaiting_return"


def test_who_may_book_and_outcomes_are_the_systems(visit_case, merchant, agent, book):
    stranger = f.ConsumerFactory(username="eve")
    slot = visit_assess(case=visit_case).slots[0]
    for actor, status in ((merchant, 403), (stranger, 404), (agent, 403)):
        with pytest.raises(CaseError) as exc:
            services.case_act(action="book_visit", case_id=visit_case.pk, actor=actor, data={"slot": slot.pk})
        assert exc.value.status == status
    case = book(visit_case)
    for action in ("visit_repaired", "visit_needs_workshop", "visit_not_repairable"):
        with pytest.raises(CaseError) as exc:
            services.case_act(action=action, case_id=case.pk, actor=merchant, data={})
        assert exc.value.status == 403
    assert AfterSalesCase.objects.get(pk=case.pk).state == "awaiting_visit"


def test_the_consumer_cancels_the_visit_and_ships_instead(visit_case, book, consumer):
    case = book(visit_case)
    visit = RepairVisit.objects.get(case=case)
    case = services.case_act(action="cancel_visit", case_id=case.pk, actor=consumer, data={})
    assert case.state == "awaiting_return" and case.deadline_name == "consumer_ship"
    visit.refresh_from_db()
    assert visit.state == "cancelled" and visit.closed_at is not None
    assert Slot.objects.get(pk=visit.slot_id).booked == 0
    assert CaseEvent.objects.filter(case=case).last().payload == {}


@pytest.mark.parametrize(("outcome", "state", "clock"), [
    ("visit_repaired", "completed", None), ("visit_needs_workshop", "awaiting_return", "consumer_ship"),
    ("visit_not_repairable", "in_repair", "merchant_repair")])
def test_the_technicians_outcome_moves_the_case(visit_case, book, outcome, state, clock):
    case = book(visit_case)
    visit = RepairVisit.objects.get(case=case)
    assert visit_outcome_apply(visit=visit, status=outcome, note="主板更换") is True
    case = AfterSalesCase.objects.get(pk=case.pk)
    assert case.state == state and (case.deadline_name or None) == clock
    visit.refresh_from_db()
    assert visit.state == {"visit_repaired": "repaired", "visit_needs_workshop": "needs_workshop",
                           "visit_not_repairable": "not_repairable"}[outcome]
    assert Slot.objects.get(pk=visit.slot_id).booked == 1  # the technician came: the place was used
    event = CaseEvent.objects.filter(case=case).last()
    assert (event.action, event.role, event.payload) == (outcome, "system", {"visit": visit.pk, "note": "主板更换"})
    assert visit_outcome_apply(visit=visit, status=outcome) is False  # a repeat changes nothing
    assert CaseEvent.objects.filter(case=case, action=outcome).count() == 1


def test_not_repairable_leaves_the_merchant_a_refund_or_a_replacement(visit_case, book, merchant):
    case = book(visit_case)
    visit_outcome_apply(visit=RepairVisit.objects.get(case=case), status="visit_not_repairable")
    assert set(available_actions(merchant, AfterSalesCase.objects.get(pk=case.pk))) >= {"approve_refund",
                                                                                          "ship_repaired"}
    case = services.case_act(action="approve_refund", case_id=case.pk, actor=merchant, data={})
    assert case.state == "refunded" and case.refund.amount == Decimal("300.00")


def test_an_outcome_after_the_visit_was_cancelled_changes_nothing(visit_case, book, consumer):
    case = book(visit_case)
    visit = RepairVisit.objects.get(case=case)
    services.case_act(action="cancel_visit", case_id=case.pk, actor=consumer, data={})
    visit.refresh_from_db()
    assert visit_outcome_apply(visit=visit, status="visit_repaired") is False
    assert AfterSalesCase.objects.get(pk=case.pk).state == "awaiting_return"


def test_the_technician_clock_running_out_cancels_the_visit(visit_case, book):
    case = book(visit_case)
    visit = RepairVisit.objects.get(case=case)
    later = running(case).due_at + timedelta(seconds=1)
    assert deadlines_sweep(now=later) >= 1
    case = AfterSalesCase.objects.get(pk=case.pk)
    assert case.state == "awaiting_return" and case.deadline_name == "consumer_ship"
    event = CaseEvent.objects.filter(case=case).last()
    assert (event.action, event.role, event.payload) == ("cancel_visit", "system", {"expired": True})
    visit.refresh_from_db()
    assert visit.state == "cancelled" and Slot.objects.get(pk=visit.slot_id).booked == 0


def test_staff_stepping_in_cancels_the_live_visit(visit_case, book, agent):
    case = book(visit_case)
    case = services.case_act(action="intervene", case_id=case.pk, actor=agent, data={"note": "核实"})
    assert case.state == "in_arbitration"
    assert RepairVisit.objects.get(case=case).state == "cancelled"
