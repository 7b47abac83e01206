"""Interception (docs/interception.md): who may ask, the courier's answer (gateway reply or signed webhook),
the clock, and the simulated courier's rule (even last waybill digit intercepts, odd fails)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from cases import services
from cases.models import AfterSalesCase, CaseEvent, Deadline, Refund
from cases.services import CaseError
from cases.sweep import deadlines_sweep
from pickups.couriers import gateway_for
from pickups.interception import interception_request
from pickups.simulator.service import simulator_intercept
from tests import factories as f
from tests.pickups.conftest import signed_post


def in_transit_case(consumer: Any, shop: Any, *, waybill: str = "SIM000000000002", carrier: str = "simulated",
                    reason: str = "not_received") -> AfterSalesCase:
    order = f.OrderFactory(consumer=consumer, shop=shop, signed_at=None, carrier=carrier, waybill=waybill)
    item = f.OrderItemFactory(order=order, quantity=1, unit_price="60.00", paid="60.00")
    return services.case_submit(consumer=consumer, order_item_id=item.pk, kind="refund_only", reason=reason,
                                amount="60.00", quantity=1)


def intercept(case: AfterSalesCase, actor: Any) -> AfterSalesCase:
    return services.case_act(action="intercept", case_id=case.pk, actor=actor, data={})


@pytest.mark.django_db
def test_consumer_intercepts_and_the_courier_stops_the_parcel(courier, consumer, merchant, shop):
    case = intercept(in_transit_case(consumer, shop), consumer)
    assert case.state == "intercepting" and case.deadline_name == "interception"
    clock = Deadline.objects.get(case=case, fired_at__isnull=True, cancelled_at__isnull=True)
    assert clock.duration_seconds == 48 * 3600
    assert CaseEvent.objects.filter(case=case).last().payload == {"carrier": "simulated",
                                                                  "waybill": "SIM000000000002"}
    case = services.case_intercept_result(case_id=case.pk, outcome="intercepted")
    assert case.state == "refunded"
    event = CaseEvent.objects.filter(case=case).last()
    assert (event.action, event.role, event.payload["intercepted"]) == ("approve", "system", True)
    refund = Refund.objects.get(case=case)
    assert refund.amount == Decimal("60.00") == sum(p.amount for p in refund.payouts.all())


@pytest.mark.django_db
def test_a_failed_interception_returns_the_case_to_the_merchant(courier, consumer, merchant, shop):
    case = intercept(in_transit_case(consumer, shop), merchant)
    case = services.case_intercept_result(case_id=case.pk, outcome="intercept_failed", reason="已派送")
    assert case.state == "pending_merchant" and case.deadline_name == "merchant_response"
    event = CaseEvent.objects.filter(case=case).last()
    assert (event.action, event.payload) == ("intercept_failed", {"reason": "已派送"})
    assert services.case_act(action="approve", case_id=case.pk, actor=merchant, data={}).state == "refunded"


@pytest.mark.django_db
def test_the_clock_running_out_is_a_failure(courier, consumer, shop):
    case = intercept(in_transit_case(consumer, shop), consumer)
    due = AfterSalesCase.objects.get(pk=case.pk).deadline_due_at
    deadlines_sweep(now=due + timedelta(seconds=1))
    case = AfterSalesCase.objects.get(pk=case.pk)
    assert case.state == "pending_merchant" and case.deadline_name == "merchant_response"
    assert CaseEvent.objects.filter(case=case).last().payload == {"expired": True}
    late = pytest.raises(CaseError, services.case_intercept_result, case_id=case.pk, outcome="intercepted")
    assert late.value.status == 409  # a result after the clock changes nothing


@pytest.mark.django_db
def test_refusals(courier, consumer, merchant, shop, agent):
    bare = in_transit_case(consumer, shop, waybill="", carrier="")
    with pytest.raises(CaseError) as no_waybill:
        intercept(bare, consumer)
    assert (no_waybill.value.code, no_waybill.value.status) == ("not_interceptable", 400)
    case = in_transit_case(consumer, shop)
    with pytest.raises(CaseError) as staff:
        intercept(case, agent)
    assert staff.value.status == 403
    services.case_act(action="reject", case_id=case.pk, actor=merchant, data={"reason": "已发货"})
    with pytest.raises(CaseError) as wrong_state:
        intercept(case, consumer)
    assert (wrong_state.value.code, wrong_state.value.status) == ("invalid_transition", 409)
    with pytest.raises(CaseError) as system_only:
        services.case_act(action="intercept_failed", case_id=case.pk, actor=consumer, data={})
    assert system_only.value.status == 403


@pytest.mark.django_db
def test_the_api_offers_intercept_only_where_it_can_work(api, courier, consumer, merchant, shop):
    case = in_transit_case(consumer, shop)
    bare = in_transit_case(consumer, shop, waybill="")
    assert "intercept" in api(consumer).get(f"/api/v1/cases/{case.pk}/").json()["available_actions"]
    assert "intercept" in api(merchant).get(f"/api/v1/cases/{case.pk}/").json()["available_actions"]
    assert "intercept" not in api(consumer).get(f"/api/v1/cases/{bare.pk}/").json()["available_actions"]
    refused = api(consumer).post(f"/api/v1/cases/{bare.pk}/actions/intercept/", {}, format="json")
    assert refused.status_code == 400 and refused.json()["code"] == "not_interceptable"
    done = api(consumer).post(f"/api/v1/cases/{case.pk}/actions/intercept/", {}, format="json")
    assert done.status_code == 200 and done.json()["state"] == "intercepting"
    assert done.json()["deadline"]["name"] == "interception"


def test_the_simulated_courier_decides_by_the_last_digit():
    assert simulator_intercept("SIM000000000004")[0] == "intercepted"
    assert simulator_intercept("SIM000000000007")[0] == "intercept_failed"
    assert simulator_intercept("SIM-HOLD")[0] == "requested"


@pytest.mark.django_db
def test_a_signed_webhook_reports_the_result(client, courier, consumer, shop):
    case = intercept(in_transit_case(consumer, shop, waybill="SIM000000000011"), consumer)
    body = {"event_id": "icp-1", "waybill": "SIM000000000011", "status": "intercept_failed", "reason": "已签收",
            "at": "2026-12-02T10:00:00+08:00"}
    response = signed_post(client, body, secret=courier.secret)
    assert response.status_code == 200 and response.json()["applied"] is True
    assert AfterSalesCase.objects.get(pk=case.pk).state == "pending_merchant"
    assert signed_post(client, body, secret=courier.secret).json()["duplicate"] is True


@pytest.mark.django_db(transaction=True)
def test_the_task_asks_the_simulated_courier_over_http(courier_live, consumer, shop):
    """The move commits, the hook enqueues the task (run eagerly here), the task asks the courier over HTTP."""
    assert gateway_for(courier_live).intercept("SIM000000000002").status == "intercepted"
    even = intercept(in_transit_case(consumer, shop, waybill="SIM000000000002"), consumer)
    odd = intercept(in_transit_case(consumer, shop, waybill="SIM000000000003"), consumer)
    assert AfterSalesCase.objects.get(pk=even.pk).state == "refunded"
    assert CaseEvent.objects.filter(case=odd).last().payload == {"reason": "parcel_out_for_delivery"}
    assert AfterSalesCase.objects.get(pk=odd.pk).state == "pending_merchant"
    assert interception_request(case_id=even.pk) is None  # run again: nothing to do
