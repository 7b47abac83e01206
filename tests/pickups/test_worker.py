"""A real Celery worker process over Redis and over RabbitMQ, on the test's PostgreSQL database, and the simulated courier over
HTTP (pytest-django's live server): a pickup travels from `requested` to `delivered`, and a courier failing
three times gets exactly one booking."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.conf import settings

from cases.models import AfterSalesCase
from pickups import services
from pickups.models import Pickup, SimulatedCourierBooking, SimulatedCourierControl
from pickups.simulator.service import control_set
from tests import factories as f
from tests.pickups.helpers import make_case
from tests.workers import use_broker

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]
ROOT = Path(__file__).resolve().parents[2]


def wait_for(predicate: Callable[[], bool], *, timeout: float, what: str,
             between: Callable[[], object] | None = None) -> None:
    """Poll the database with a bounded deadline; `between` runs before each look (e.g. a beat tick)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if between is not None:
            between()
        if predicate():
            return
        time.sleep(0.3)
    log = Path(os.environ.get("PICKUP_WORKER_LOG_FILE", "/nonexistent"))
    tail = log.read_text(errors="replace")[-3000:] if log.exists() else ""
    raise AssertionError(f"timed out after {timeout}s waiting for {what}\n--- worker log ---\n{tail}")


@pytest.fixture
def broker(broker_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """This process enqueues to the broker (Redis, then RabbitMQ) for real (not eagerly) for the test."""
    use_broker(monkeypatch, broker_url)
    return broker_url


def _database_url() -> str:
    db = settings.DATABASES["default"]
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return (f"postgres://{db.get('USER') or 'postgres'}{password}@{db.get('HOST') or '127.0.0.1'}:"
            f"{db.get('PORT') or 5432}/{db['NAME']}")


@pytest.fixture
def worker(postgres: None, broker: str, courier_live: object, live_server: object, tmp_path: Path,
           monkeypatch: pytest.MonkeyPatch) -> Iterator[subprocess.Popen]:
    monkeypatch.setenv("SIMULATED_COURIER_SPEED_SECONDS", "0")  # the simulator's HTTP side runs in this process
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "portal.settings.local",
        "DATABASE_URL": _database_url(),
        "CELERY_BROKER_URL": broker,
        "CELERY_EAGER": "0",
        "PORTAL_BASE_URL": live_server.url,  # type: ignore[attr-defined]
        "PORTAL_VAR_DIR": str(tmp_path / "var"),
        "SIMULATED_COURIER_SPEED_SECONDS": "0",
        "PICKUP_DISPATCH_BACKOFF_SECONDS": "1",
        "PYTHONPATH": str(ROOT),
    }
    log = open(tmp_path / "worker.log", "ab")  # noqa: SIM115
    monkeypatch.setenv("PICKUP_WORKER_LOG_FILE", str(tmp_path / "worker.log"))
    procs: list[subprocess.Popen] = []

    def start() -> subprocess.Popen:
        proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "portal", "worker", "-Q", "pickups", "-c", "2", "-l", "WARNING",
             "--without-gossip", "--without-mingle", "--without-heartbeat",
             "-n", f"pickups-{uuid.uuid4().hex[:8]}@%h"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        procs.append(proc)
        return proc

    proc = start()
    proc.start_another = start  # type: ignore[attr-defined]
    try:
        yield proc
    finally:
        for p in procs:
            if p.poll() is None:
                os.killpg(p.pid, 9)
            p.wait(timeout=30)
        log.close()
        if os.environ.get("PICKUP_WORKER_LOG"):
            print((tmp_path / "worker.log").read_text(errors="replace"))


def _awaiting_case(name: str) -> AfterSalesCase:
    consumer = f.ConsumerFactory(username=name)
    merchant = f.MerchantFactory(username=f"{name}-shopkeeper")
    shop = f.ShopFactory(code=f"{name}-shop", members=[merchant])
    return make_case(consumer, merchant, f.OrderItemFactory(order=f.OrderFactory(consumer=consumer, shop=shop)))


def _book(case: AfterSalesCase) -> Pickup:
    slot = services.pickup_assess(case=case).slots[0]
    return services.pickup_book(case_id=case.pk, actor=case.consumer, slot_id=slot.pk)


def test_a_pickup_goes_from_requested_to_delivered(regions: None, worker: subprocess.Popen) -> None:
    from pickups.tasks import sweep_pickups

    case = _awaiting_case("walker")
    pickup = _book(case)
    assert Pickup.objects.get(pk=pickup.pk).state == "requested"  # nothing ran in this process

    def state() -> str:
        return Pickup.objects.get(pk=pickup.pk).state

    wait_for(lambda: state() == "dispatched", timeout=60, what="the worker to dispatch the pickup")
    assert worker.poll() is None
    # The beat's job, done here: each sweep moves the simulated courier one step and it calls the webhook.
    wait_for(lambda: state() == "delivered", timeout=40, what="the courier to deliver",
             between=sweep_pickups.delay)
    assert AfterSalesCase.objects.get(pk=case.pk).state == "return_in_transit"
    fresh = Pickup.objects.get(pk=pickup.pk)
    assert [e.action for e in fresh.events.all()] == ["book", "dispatch", "pick_up", "depart", "deliver"]
    assert SimulatedCourierBooking.objects.filter(idempotency_key=fresh.idempotency_key).count() == 1


def test_a_courier_failing_three_times_books_exactly_once(regions: None, worker: subprocess.Popen) -> None:
    control_set({"reset": True})
    control_set({"fail_next": 3})
    case = _awaiting_case("retrier")
    started = time.monotonic()
    pickup = _book(case)
    wait_for(lambda: Pickup.objects.get(pk=pickup.pk).state == "dispatched", timeout=60,
             what="dispatch after three 503s (back-off 1 s, 2 s, 4 s)")
    assert time.monotonic() - started >= 7  # the retries waited their exponential back-off
    fresh = Pickup.objects.get(pk=pickup.pk)
    assert fresh.dispatch_attempts == 4
    assert SimulatedCourierControl.current().book_calls == 4
    assert SimulatedCourierBooking.objects.count() == 1
    assert SimulatedCourierBooking.objects.get().waybill == fresh.waybill


def test_worker_killed_mid_dispatch_never_books_twice(regions: None, worker: subprocess.Popen, settings) -> None:
    """SIGKILL the worker after the courier booked but before the pickup was marked: the sweep re-dispatches
    with the same idempotency key and the courier answers with the same booking (SOAK=1: 100 rounds)."""
    from pickups.sweep import pickups_sweep

    settings.PICKUP_REDISPATCH_AFTER_SECONDS = 0
    rounds = int(os.environ.get("CRASH_ROUNDS", "100" if os.environ.get("SOAK") else "3"))
    current = worker
    for round_no in range(rounds):
        control_set({"reset": True})
        control_set({"timeout_next": 1})  # books, then answers too late: the window a crash hits
        pickup = _book(_awaiting_case(f"crash{round_no}"))
        wait_for(lambda p=pickup: SimulatedCourierBooking.objects.filter(idempotency_key=p.idempotency_key).exists(),
                 timeout=60, what="the courier to record the booking")
        assert Pickup.objects.get(pk=pickup.pk).state == "requested"
        os.killpg(current.pid, 9)
        current.wait(timeout=30)
        current = worker.start_another()  # type: ignore[attr-defined]
        pickups_sweep()  # the periodic sweep finds the pickup still requested and dispatches it again
        wait_for(lambda p=pickup: Pickup.objects.get(pk=p.pk).state != "requested", timeout=60,
                 what="the re-dispatch after the crash")
        fresh = Pickup.objects.get(pk=pickup.pk)
        bookings = SimulatedCourierBooking.objects.filter(idempotency_key=fresh.idempotency_key)
        assert bookings.count() == 1 and bookings.get().waybill == fresh.waybill
