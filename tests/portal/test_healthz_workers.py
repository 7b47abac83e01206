"""/healthz's `workers` check against a real broker: "unavailable" when no worker answers the ping, "ok" only
when a real worker process does. (With Celery eager, as in the other tests, the check has nothing to ask and
answers ok; these tests publish for real, so the answer comes from the ping.)"""

from __future__ import annotations

import pytest

from tests.workers import celery_processes, use_broker, wait_until, worker_env

pytestmark = pytest.mark.django_db


def _health(client):  # type: ignore[no-untyped-def]
    response = client.get("/healthz")
    return response.status_code, response.json()


def test_no_worker_is_named_as_failing(client, redis_url, monkeypatch):
    use_broker(monkeypatch, redis_url)
    status, body = _health(client)
    assert status == 503, body
    assert body["failing"] == ["workers"] and body["checks"]["workers"] == "unavailable"
    assert body["checks"]["broker"] == "ok"


@pytest.mark.worker
def test_a_running_worker_makes_workers_ok(client, redis_url, monkeypatch, tmp_path):
    use_broker(monkeypatch, redis_url)
    with celery_processes(worker_env(redis_url), tmp_path) as procs:
        worker = procs.worker("health")
        wait_until(lambda: _health(client)[0] == 200, timeout=60, what="the worker to answer the health ping")
        status, body = _health(client)
        assert body["checks"]["workers"] == "ok" and body["failing"] == []
        procs.kill(worker)
        # the worker is gone: the same check now fails
        wait_until(lambda: _health(client)[1]["checks"]["workers"] == "unavailable", timeout=30,
                   what="the health check to notice the worker has gone")
