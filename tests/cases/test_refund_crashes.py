"""A worker SIGKILLed in the middle of a payout: after recovery every refund is paid exactly once."""

from __future__ import annotations

import os
from decimal import Decimal

import pytest

from cases import services
from cases.models import Refund
from cases.payments import SimulatedPayout
from tests import factories as f
from tests.commit import paid_at_gateway
from tests.workers import celery_processes, use_broker, wait_until, worker_env

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]
ROUNDS = int(os.environ.get("CRASH_ROUNDS", "100" if os.environ.get("SOAK") else "5"))


def test_kill_worker_mid_payout(postgres, broker_url, tmp_path, monkeypatch):
    consumer = f.ConsumerFactory(username="crash", good_standing=False)
    merchant = f.MerchantFactory(username="crash-m")
    shop = f.ShopFactory(code="crash", members=[merchant])
    # the approvals below run here and commit; their after-commit work publishes the payout tasks to the broker
    # for real (the normal enqueue path), and the worker processes started below take them
    use_broker(monkeypatch, broker_url)
    refunds = []
    for _ in range(ROUNDS):
        item = f.OrderItemFactory(order=f.OrderFactory(consumer=consumer, shop=shop))
        case = services.case_submit(consumer=consumer, order_item_id=item.pk, kind="refund_only", reason="other",
                                    quantity=1, amount="20.00")
        services.case_approve(case_id=case.pk, actor=merchant)
        refunds.append(Refund.objects.get(case=case))
    assert not SimulatedPayout.objects.exists(), "nothing is paid until a worker takes the queued payouts"
    env = worker_env(broker_url, SIMULATED_PAYMENT_DELAY_SECONDS="1.5", REFUND_RETRY_AFTER_SECONDS="0",
                     REFUND_RETRY_SWEEP_SECONDS="1")
    kills = 0
    with celery_processes(env, tmp_path) as procs:
        worker = procs.worker("payer", concurrency=1)
        procs.beat(tmp_path / "beat")
        for refund in refunds:
            # the provider has recorded the payout but the worker has not yet marked the refund: kill it now
            wait_until(lambda r=refund: SimulatedPayout.objects.filter(idempotency_key=r.idempotency_key).exists(),
                       timeout=60, what="a payout in flight")
            if Refund.objects.get(pk=refund.pk).status == "pending":
                procs.kill(worker)
                kills += 1
                worker = procs.worker(f"payer{kills}", concurrency=1)
        wait_until(lambda: Refund.objects.filter(pk__in=[r.pk for r in refunds], status="succeeded").count()
                   == len(refunds), timeout=120, what="every refund paid after the crashes")
    assert kills >= 1
    for refund in refunds:  # per case, not per key: a payout under any other key would be a second payment
        assert paid_at_gateway(refund.case.number) == [Decimal("20.00")], refund.idempotency_key
