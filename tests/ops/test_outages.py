"""Outages: with the broker or the database gone, requests answer clearly (never a 500) and nothing is lost."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
import requests

from cases import services
from cases.models import AfterSalesCase, Refund
from cases.tasks import retry_pending_refunds
from tests.commit import paid_at_gateway
from tests.workers import wait_until

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def broker_down(settings):  # type: ignore[no-untyped-def]
    from portal.celery import app

    saved = (app.conf.broker_url, app.conf.task_always_eager, app.conf.broker_transport_options)
    app.conf.broker_url = "redis://127.0.0.1:1/0"
    app.conf.task_always_eager = False
    app.conf.broker_transport_options = {"max_retries": 1, "interval_start": 0, "interval_step": 0.1}
    _fresh_pool(app)

    def restore() -> None:
        app.conf.broker_url, app.conf.task_always_eager, app.conf.broker_transport_options = saved
        _fresh_pool(app)

    yield restore
    restore()


def _fresh_pool(app) -> None:  # type: ignore[no-untyped-def]
    """Forget the app's producer pool so the next publish connects with the current broker settings.

    (Closing it would close kombu's shared pool for that broker for every later test too.)
    """
    app._pool = None


@pytest.mark.django_db
def test_broker_down_refund_stands_and_is_retried_later(api, consumer, merchant, item, broker_down, settings,
                                                        django_capture_on_commit_callbacks):
    case = services.case_submit(consumer=consumer, order_item_id=item.pk, kind="refund_only", reason="other",
                                quantity=1, amount="10.00")
    with django_capture_on_commit_callbacks(execute=True):
        response = api(merchant).post(f"/api/v1/cases/{case.pk}/actions/approve/", {}, format="json")
    assert response.status_code == 200
    assert AfterSalesCase.objects.get(pk=case.pk).state == "refunded"
    refund = Refund.objects.get(case=case)
    assert refund.status == "pending"  # paid later by the periodic retry, from the database
    health = api().get("/healthz")
    assert health.status_code == 503 and "broker" in health.json()["failing"]
    assert paid_at_gateway(case.number) == []
    # the broker is back: the periodic retry (run here as beat would run it) pays the refund, once
    broker_down()
    settings.REFUND_RETRY_AFTER_SECONDS = 0
    assert retry_pending_refunds() == 1
    refund.refresh_from_db()
    assert refund.status == "succeeded"
    assert paid_at_gateway(case.number) == [Decimal("10.00")]
    assert retry_pending_refunds() == 0 and paid_at_gateway(case.number) == [Decimal("10.00")]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_database_down_answers_503(tmp_path):
    port = _free_port()
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="portal.settings.local", DJANGO_DEBUG="false",
               DATABASE_URL="postgres://postgres@127.0.0.1:1/gone", PYTHONPATH=str(ROOT))
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    log = open(tmp_path / "web.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "portal.wsgi", "-w", "1", "-b", f"127.0.0.1:{port}"],
                            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        def up() -> bool:
            try:
                requests.get(f"http://127.0.0.1:{port}/readyz", timeout=5)
                return True
            except requests.RequestException:
                return False

        wait_until(up, timeout=30, what="gunicorn")
        ready = requests.get(f"http://127.0.0.1:{port}/readyz", timeout=10)
        assert ready.status_code == 503
        r = requests.get(f"http://127.0.0.1:{port}/api/v1/cases/", headers={"Authorization": "Bearer abc"}, timeout=10)
        assert r.status_code == 503 and r.json()["code"] == "service_unavailable"
        r = requests.post(f"http://127.0.0.1:{port}/api/v1/auth/token/", json={"username": "a", "password": "b"},
                          timeout=10)
        assert r.status_code == 503
    finally:
        proc.terminate()
        proc.wait(timeout=10)
