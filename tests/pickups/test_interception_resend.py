"""A lost interception request (docs/interception.md): the request is recorded with the move and re-sent by the
outbox sweep until the courier answers; a case no longer intercepting is left alone."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from cases.models import AfterSalesCase
from cases.sweep import deadlines_sweep
from pickups.couriers import Interception
from pickups.models import InterceptionRequest
from pickups.simulator.service import simulator_intercept
from portal.outbox import resend_outgoing
from tests.pickups.conftest import signed_post
from tests.pickups.test_interception import in_transit_case, intercept

pytestmark = pytest.mark.django_db


class FakeCourier:
    def __init__(self) -> None:
        self.asked: list[str] = []

    def intercept(self, waybill: str) -> Interception:
        self.asked.append(waybill)
        status, reason = simulator_intercept(waybill)
        return Interception(waybill=waybill, status=status, reason=reason)


@pytest.fixture
def fake_courier(monkeypatch: Any) -> FakeCourier:
    fake = FakeCourier()
    monkeypatch.setattr("pickups.interception.gateway_for", lambda courier: fake)
    return fake


def later() -> Any:
    return timezone.now() + timedelta(minutes=3)


def test_the_request_is_recorded_with_the_move_and_re_sent_until_answered(courier, consumer, shop, fake_courier):
    case = intercept(in_transit_case(consumer, shop, waybill="SIM000000000004"), consumer)
    request = InterceptionRequest.objects.get(case=case)
    assert (request.shop_id, request.carrier, request.waybill) == (shop.pk, "simulated", "SIM000000000004")
    assert request.acknowledged_at is None and fake_courier.asked == []  # the after-commit task never ran
    assert resend_outgoing()["interception_requests"] == 0  # just recorded: its own message may still arrive
    assert resend_outgoing(now=later())["interception_requests"] == 1
    assert fake_courier.asked == ["SIM000000000004"]
    request.refresh_from_db()
    assert request.acknowledged_at is not None and request.answer == "intercepted" and request.attempts == 1
    assert AfterSalesCase.objects.get(pk=case.pk).state == "refunded"
    assert resend_outgoing(now=later())["interception_requests"] == 0


def test_a_requested_answer_is_an_acknowledgement(courier, consumer, shop, fake_courier):
    case = intercept(in_transit_case(consumer, shop, waybill="SIM00000000000X"), consumer)
    assert resend_outgoing(now=later())["interception_requests"] == 1
    assert InterceptionRequest.objects.get(case=case).answer == "requested"
    assert AfterSalesCase.objects.get(pk=case.pk).state == "intercepting"
    assert resend_outgoing(now=later())["interception_requests"] == 0 and len(fake_courier.asked) == 1


def test_a_case_no_longer_intercepting_is_not_asked_again(courier, consumer, shop, fake_courier):
    case = intercept(in_transit_case(consumer, shop), consumer)
    deadlines_sweep(now=timezone.now() + timedelta(hours=49))
    assert AfterSalesCase.objects.get(pk=case.pk).state == "pending_merchant"
    assert resend_outgoing(now=later())["interception_requests"] == 0 and fake_courier.asked == []


def test_a_webhook_result_acknowledges_the_request(client, courier, consumer, shop, fake_courier):
    case = intercept(in_transit_case(consumer, shop, waybill="SIM00000000000Y"), consumer)
    body = {"event_id": "i-1", "waybill": "SIM00000000000Y", "status": "intercept_failed",
            "reason": "parcel_out_for_delivery", "at": "2026-12-03T10:00:00+08:00"}
    assert signed_post(client, body, secret=courier.secret).json()["applied"] is True
    assert InterceptionRequest.objects.get(case=case).acknowledged_at is not None
    assert resend_outgoing(now=later())["interception_requests"] == 0 and fake_courier.asked == []
