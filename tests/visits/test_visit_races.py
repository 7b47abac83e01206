"""Races on PostgreSQL (docs/visits.md): the technician's outcome against the consumer calling the visit off,
and two consumers' bookings for the last place of a visit slot — exactly one wins, nothing is half applied."""

from __future__ import annotations

import pytest

from cases import services
from cases.models import AfterSalesCase, CaseEvent
from pickups.models import RepairVisit, Slot
from pickups.visits import visit_assess, visit_outcome_apply
from tests import factories as f
from tests.cases.test_races import race
from tests.visits.conftest import repair_case

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.race]


def test_outcome_racing_the_consumers_cancel_applies_exactly_one(postgres, regions, courier):
    for n in range(5):
        consumer = f.ConsumerFactory(username=f"vr-c{n}")
        merchant = f.MerchantFactory(username=f"vr-m{n}")
        shop = f.ShopFactory(code=f"vr{n}", members=[merchant])
        case = repair_case(consumer, merchant, shop)
        slot = visit_assess(case=case).slots[0]
        services.case_act(action="book_visit", case_id=case.pk, actor=consumer, data={"slot": slot.pk})
        visit = RepairVisit.objects.get(case=case)
        taken = Slot.objects.get(pk=slot.pk).booked  # the slot is the city's: earlier rounds' places count
        results = race(lambda: visit_outcome_apply(visit=visit, status="visit_repaired"),
                       lambda: services.case_act(action="cancel_visit", case_id=case.pk, actor=consumer, data={}))
        fresh = AfterSalesCase.objects.get(pk=case.pk)
        moves = list(CaseEvent.objects.filter(case=case, action__in=["visit_repaired", "cancel_visit"])
                     .values_list("action", flat=True))
        assert len(moves) == 1, (results, moves)
        visit.refresh_from_db()
        if moves == ["visit_repaired"]:
            assert fresh.state == "completed" and visit.state == "repaired" and results[0] is True
            assert isinstance(results[1], Exception) and results[1].status == 409
            assert Slot.objects.get(pk=visit.slot_id).booked == taken
        else:
            assert fresh.state == "awaiting_return" and visit.state == "cancelled" and results[0] is False
            assert Slot.objects.get(pk=visit.slot_id).booked == taken - 1


def test_two_bookings_for_the_last_visit_place_give_one_visit(postgres, regions, courier):
    cases, consumers = [], []
    for n in range(2):
        consumer = f.ConsumerFactory(username=f"vs-c{n}")
        merchant = f.MerchantFactory(username=f"vs-m{n}")
        shop = f.ShopFactory(code=f"vs{n}", members=[merchant])
        cases.append(repair_case(consumer, merchant, shop))
        consumers.append(consumer)
    slot = visit_assess(case=cases[0]).slots[0]
    Slot.objects.filter(pk=slot.pk).update(booked=slot.capacity - 1)
    results = race(*[
        (lambda c=c, u=u: services.case_act(action="book_visit", case_id=c.pk, actor=u, data={"slot": slot.pk}))
        for c, u in zip(cases, consumers, strict=True)])
    errors = [r for r in results if isinstance(r, Exception)]
    assert len(errors) == 1 and errors[0].code == "no_slot" and errors[0].status == 409, results
    assert Slot.objects.get(pk=slot.pk).booked == slot.capacity
    assert RepairVisit.objects.filter(slot=slot).count() == 1
    assert sorted(AfterSalesCase.objects.filter(pk__in=[c.pk for c in cases]).values_list("state", flat=True)) == [
        "awaiting_return", "awaiting_visit"]
