"""Deadlines fired by real Celery worker processes and beat over Redis and RabbitMQ: exactly once, surviving
FLUSHALL."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from cases import services
from cases.models import AfterSalesCase, CaseEvent, Deadline, Refund
from cases.services import CaseError
from cases.sweep import deadline_fire
from tests import factories as f
from tests.threads import join_all
from tests.workers import celery_processes, wait_until, worker_env

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]


def bulk_cases(n: int, *, due_in: timedelta) -> list[int]:
    """Test data: n cases pending the merchant, each with a merchant_response deadline due at now + due_in."""
    consumer = f.ConsumerFactory(username="bulk-consumer", good_standing=False)
    shop = f.ShopFactory(code="bulk")
    product = f.ProductFactory(shop=shop)
    order = f.OrderFactory(consumer=consumer, shop=shop)
    items = [f.OrderItemFactory.build(order=order, product=product, position=i) for i in range(n)]
    from portal.models import OrderItem

    OrderItem.objects.bulk_create(items)
    items = list(OrderItem.objects.filter(order=order).order_by("position"))
    now = timezone.now()
    cases = AfterSalesCase.objects.bulk_create([
        AfterSalesCase(number=f"ASBULK{i:06d}", order_item=item, consumer=consumer, shop=shop, kind="return_refund",
                       reason="other", quantity=1, amount=Decimal("99.00"), freight_payer="consumer",
                       deadline_name="merchant_response", deadline_due_at=now + due_in)
        for i, item in enumerate(items)
    ])
    Deadline.objects.bulk_create([
        Deadline(case=c, name="merchant_response", state="pending_merchant", started_at=now,
                 duration_seconds=1, due_at=now + due_in, remind_at=now + due_in)
        for c in cases
    ])
    return [c.pk for c in cases]


def system_events() -> int:
    return CaseEvent.objects.filter(role="system", action="approve").count()


def test_two_workers_and_beat_fire_2000_deadlines_exactly_once(postgres, broker_url, tmp_path):
    ids = bulk_cases(2000, due_in=timedelta(seconds=-1))
    env = worker_env(broker_url, DEADLINE_SWEEP_SECONDS="1")
    started = time.monotonic()
    with celery_processes(env, tmp_path) as procs:
        procs.worker("w1")
        procs.worker("w2")
        procs.beat(tmp_path / "beat-schedule")
        wait_until(lambda: not Deadline.objects.filter(name="merchant_response", fired_at__isnull=True,
                                                       cancelled_at__isnull=True, case_id__in=ids).exists(),
                   timeout=300, what="2000 deadlines to fire")
    elapsed = time.monotonic() - started
    print(f"\n2000 deadlines fired in {elapsed:.1f}s ({2000 / elapsed:.0f}/s incl. start-up)")
    assert system_events() == 2000
    per_case = CaseEvent.objects.filter(role="system", action="approve").values_list("case_id", flat=True)
    assert len(set(per_case)) == 2000
    assert AfterSalesCase.objects.filter(pk__in=ids, state="awaiting_return").count() == 2000
    assert Deadline.objects.filter(case_id__in=ids, name="merchant_response", fired_at__isnull=False).count() == 2000


def test_flushall_loses_no_deadline(postgres, redis_url, tmp_path):
    import redis

    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    ids = bulk_cases(50, due_in=timedelta(seconds=2))
    due = max(Deadline.objects.filter(case_id__in=ids).values_list("due_at", flat=True))
    env = worker_env(redis_url, DEADLINE_SWEEP_SECONDS="1")
    fired = CaseEvent.objects.filter(case_id__in=ids, role="system")
    with celery_processes(env, tmp_path) as procs:
        # beat alone: once every deadline is due, the sweeps it sends wait in the broker with nobody to take them
        procs.beat(tmp_path / "beat-schedule")
        wait_until(lambda: timezone.now() > due, timeout=30, what="every deadline to be due")
        queued_at_due = client.llen("deadlines")
        wait_until(lambda: client.llen("deadlines") > queued_at_due, timeout=30,
                   what="a sweep queued after the deadlines were due")
        client.flushall()  # the broker forgets the sweeps for the due deadlines
        assert client.llen("deadlines") == 0 and not fired.exists()
        worker = procs.worker("w1")
        wait_until(fired.exists, timeout=60, what="the first deadline to fire after FLUSHALL")
        client.flushall()  # again while the deadlines are firing: whatever was queued or in flight is lost
        procs.kill(worker)
        procs.worker("w1b")
        wait_until(lambda: fired.count() >= 50, timeout=90, what="every deadline to fire after FLUSHALL")
        wait_until(lambda: Deadline.objects.filter(case_id__in=ids, name="consumer_ship").count() == 50,
                   timeout=30, what="follow-up clocks")
    # each deadline fired exactly once, however many sweeps were lost or repeated
    assert fired.filter(action="approve").count() == 50 == fired.count()
    assert Deadline.objects.filter(case_id__in=ids, name="merchant_response", fired_at__isnull=False).count() == 50


def test_merchant_approve_and_sweep_at_the_same_instant(postgres):
    consumer = f.ConsumerFactory(username="instant", good_standing=False)
    merchant = f.MerchantFactory(username="instant-m")
    shop = f.ShopFactory(code="instant", members=[merchant])
    for _ in range(20):
        item = f.OrderItemFactory(order=f.OrderFactory(consumer=consumer, shop=shop))
        case = services.case_submit(consumer=consumer, order_item_id=item.pk, kind="refund_only", reason="other",
                                    quantity=1, amount="10.00")
        deadline = Deadline.objects.get(case=case)
        Deadline.objects.filter(pk=deadline.pk).update(due_at=timezone.now() - timedelta(seconds=1))
        barrier = threading.Barrier(2)
        results: list[object] = [None, None]

        def run(i: int, call) -> None:  # type: ignore[no-untyped-def]
            try:
                barrier.wait()
                results[i] = call()
            except Exception as exc:  # noqa: BLE001
                results[i] = exc
            finally:
                connection.close()

        calls = [lambda: services.case_approve(case_id=case.pk, actor=merchant),
                 lambda: deadline_fire(deadline_id=deadline.pk)]
        threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
        for t in threads:
            t.start()
        join_all(threads)
        assert all(not isinstance(r, Exception) or (isinstance(r, CaseError) and r.status == 409) for r in results)
        assert CaseEvent.objects.filter(case=case, action="approve").count() == 1
        assert Refund.objects.filter(case=case).count() == 1
        assert AfterSalesCase.objects.get(pk=case.pk).state == "refunded"
