"""The production shape on this machine: gunicorn, a Celery worker and beat on PostgreSQL and Redis."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
import requests
from django.utils import timezone

from cases.models import CaseEvent, Deadline, Refund
from tests import factories as f
from tests.workers import celery_processes, wait_until, worker_env

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]
ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def production_env(redis_url: str) -> dict[str, str]:
    env = worker_env(redis_url)
    env.update({
        "DJANGO_SETTINGS_MODULE": "portal.settings.production",
        "SECRET_KEY": "k7Gq2vX9pL4mN8rT1wY6zB3cF5hJ0sD-e_aQiUoPlKjHgVbNmCxZ",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_COOKIES": "false",
        "SECURE_SSL_REDIRECT": "false",
        "REDIS_URL": redis_url,
        "DEADLINE_SWEEP_SECONDS": "1",
        "LOG_LEVEL": "INFO",
    })
    return env


def json_lines(path: Path) -> list[dict]:
    records = []
    for line in path.read_text(errors="replace").splitlines():
        if line.startswith("{"):
            records.append(json.loads(line))
    return records


def test_full_case_through_gunicorn_worker_and_beat(postgres, redis_url, tmp_path, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]  # what production reads
    consumer = f.ConsumerFactory(username="prod-alice", good_standing=False)
    merchant = f.MerchantFactory(username="prod-bob")
    shop = f.ShopFactory(code="prod", members=[merchant])
    item = f.OrderItemFactory(order=f.OrderFactory(consumer=consumer, shop=shop))
    env = production_env(redis_url)
    port = free_port()
    web_log = tmp_path / "web.log"
    with celery_processes(env, tmp_path) as procs, open(web_log, "ab") as log:
        web = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "portal.wsgi", "-w", "2", "-b", f"127.0.0.1:{port}"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        procs.procs.append(web)
        procs.worker("prod-worker")
        procs.beat(tmp_path / "beat")
        base = f"http://127.0.0.1:{port}"

        def up() -> bool:
            try:
                return requests.get(f"{base}/healthz", timeout=5).status_code == 200
            except requests.RequestException:
                return False

        wait_until(up, timeout=60, what="gunicorn, worker and broker healthy")

        def token(username: str) -> dict[str, str]:
            r = requests.post(f"{base}/api/v1/auth/token/", json={"username": username, "password": "pass1234"})
            assert r.status_code == 200, r.text
            return {"Authorization": f"Bearer {r.json()['token']}"}

        c, m = token("prod-alice"), token("prod-bob")
        r = requests.post(f"{base}/api/v1/cases/", headers=c, json={
            "order_item": item.pk, "kind": "return_refund", "reason": "other", "quantity": 1, "amount": "50.00"})
        assert r.status_code == 201, r.text
        case = r.json()
        for who, action, body in ((m, "approve", {}), (c, "ship_return", {"carrier": "SF", "tracking_number": "1"}),
                                  (m, "confirm_receipt", {})):
            r = requests.post(f"{base}/api/v1/cases/{case['id']}/actions/{action}/", headers=who, json=body)
            assert r.status_code == 200, r.text
        assert r.json()["state"] == "refunded"
        wait_until(lambda: Refund.objects.filter(case_id=case["id"], status="succeeded").exists(), timeout=60,
                   what="the payout by the worker")
        # beat sweeps a due deadline on its own
        other = f.OrderItemFactory(order=f.OrderFactory(consumer=consumer, shop=shop))
        r = requests.post(f"{base}/api/v1/cases/", headers=c, json={
            "order_item": other.pk, "kind": "return_refund", "reason": "other", "quantity": 1})
        Deadline.objects.filter(case_id=r.json()["id"]).update(due_at=timezone.now() - timedelta(seconds=1))
        wait_until(lambda: CaseEvent.objects.filter(case_id=r.json()["id"], role="system").exists(), timeout=60,
                   what="beat to fire the deadline")
    records = json_lines(web_log)
    assert records, web_log.read_text()[:2000]
    about_case = [rec for rec in records if rec.get("case") == case["number"]]
    assert about_case and all(rec.get("request_id") for rec in about_case)


def test_two_beats_never_fire_a_deadline_twice(postgres, redis_url, tmp_path):
    import redis

    from tests.cases.test_deadline_workers import bulk_cases

    redis.Redis.from_url(redis_url).flushdb()
    ids = bulk_cases(300, due_in=timedelta(seconds=2))
    env = worker_env(redis_url, DEADLINE_SWEEP_SECONDS="1")
    with celery_processes(env, tmp_path) as procs:
        procs.worker("wa")
        procs.worker("wb")
        procs.start("beat", "-l", "WARNING", "-s", str(tmp_path / "beat1"), name="beat1")
        procs.start("beat", "-l", "WARNING", "-s", str(tmp_path / "beat2"), name="beat2")
        wait_until(lambda: CaseEvent.objects.filter(case_id__in=ids, role="system").count() >= 300, timeout=120,
                   what="300 deadlines with two beats")
    assert CaseEvent.objects.filter(case_id__in=ids, role="system", action="approve").count() == 300
    assert len(set(CaseEvent.objects.filter(case_id__in=ids, role="system").values_list("case_id", flat=True))) == 300
    assert os.path.exists(tmp_path / "beat1.log")
