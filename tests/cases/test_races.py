"""Races on PostgreSQL: conflicting actions on one case end with exactly one applied, never two payouts."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable

import pytest
from django.db import connection

from cases import services
from cases.models import AfterSalesCase, CaseEvent, Refund
from cases.payments import SimulatedPayout
from cases.refunds import refund_execute
from cases.services import CaseError
from tests import factories as f
from tests.threads import join_all

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.race]
ROUNDS = int(os.environ.get("RACE_ROUNDS", "1000" if os.environ.get("SOAK") else "15"))


def race(*calls: Callable[[], object]) -> list[object]:
    """Start the calls together; each runs on its own connection. Returns results or exceptions."""
    barrier = threading.Barrier(len(calls))
    results: list[object] = [None] * len(calls)

    def run(i: int, call: Callable[[], object]) -> None:
        try:
            barrier.wait()
            results[i] = call()
        except Exception as exc:  # noqa: BLE001
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    join_all(threads)
    return results


def one_winner(results: list[object]) -> None:
    errors = [r for r in results if isinstance(r, Exception)]
    assert len(errors) == len(results) - 1, results
    for error in errors:
        assert isinstance(error, CaseError) and error.status == 409, error


@pytest.fixture
def world(postgres, db):  # type: ignore[no-untyped-def]
    consumer = f.ConsumerFactory(username="racer", good_standing=False)
    merchant = f.MerchantFactory(username="racer-m")
    shop = f.ShopFactory(code="race", members=[merchant])
    agents = [f.make_staff("agent1"), f.make_staff("agent2")]
    return consumer, merchant, shop, agents


def _case(consumer, shop, kind="refund_only"):  # type: ignore[no-untyped-def]
    item = f.OrderItemFactory(order=f.OrderFactory(consumer=consumer, shop=shop))
    return services.case_submit(consumer=consumer, order_item_id=item.pk, kind=kind, reason="other",
                                amount="50.00", quantity=1)


def test_merchant_reject_races_system_approve(world):
    consumer, merchant, shop, _ = world
    for _ in range(ROUNDS):
        case = _case(consumer, shop)
        results = race(lambda: services.case_reject(case_id=case.pk, actor=merchant, reason="no"),
                       lambda: services.case_approve(case_id=case.pk, actor=None))
        one_winner(results)
        final = AfterSalesCase.objects.get(pk=case.pk)
        assert final.state in ("rejected", "refunded")
        assert CaseEvent.objects.filter(case=case).count() == 2
        assert Refund.objects.filter(case=case).count() == (1 if final.state == "refunded" else 0)


def test_two_staff_rule_at_once(world):
    consumer, merchant, shop, (a1, a2) = world
    for _ in range(ROUNDS):
        case = _case(consumer, shop)
        services.case_intervene(case_id=case.pk, actor=a1)
        results = race(
            lambda: services.case_rule(case_id=case.pk, actor=a1, decision="refund", amount="50.00", rationale="a"),
            lambda: services.case_rule(case_id=case.pk, actor=a2, decision="refund", amount="40.00", rationale="b"),
        )
        one_winner(results)
        assert CaseEvent.objects.filter(case=case, action="rule").count() == 1
        assert Refund.objects.filter(case=case).count() == 1


def test_two_refund_executions_pay_once(world):
    consumer, merchant, shop, _ = world
    for _ in range(ROUNDS):
        case = _case(consumer, shop)
        services.case_approve(case_id=case.pk, actor=merchant)
        refund = Refund.objects.get(case=case)
        results = race(lambda: refund_execute(refund_id=refund.pk), lambda: refund_execute(refund_id=refund.pk))
        assert not any(isinstance(r, Exception) for r in results), results
        assert SimulatedPayout.objects.filter(idempotency_key=refund.idempotency_key).count() == 1
        refund.refresh_from_db()
        assert refund.status == "succeeded"


def test_double_submitted_case_creation(world):
    consumer, merchant, shop, _ = world
    for _ in range(ROUNDS):
        item = f.OrderItemFactory(order=f.OrderFactory(consumer=consumer, shop=shop))

        def submit() -> AfterSalesCase:
            return services.case_submit(consumer=consumer, order_item_id=item.pk, kind="refund_only",
                                        reason="other", amount="50.00", quantity=1)

        results = race(submit, submit)
        created = [r for r in results if isinstance(r, AfterSalesCase)]
        errors = [r for r in results if isinstance(r, Exception)]
        assert len(created) == 1 and len(errors) == 1, results
        assert isinstance(errors[0], CaseError) and errors[0].code == "case_already_open"
        assert AfterSalesCase.objects.filter(order_item=item).count() == 1
