"""The broker is chosen by CELERY_BROKER_URL: on RabbitMQ every routed queue is a quorum queue behind a topic
exchange, so countdowns and retry back-off go through the broker's delayed delivery and come back; on Redis
the queues keep their direct exchanges."""

from __future__ import annotations

import subprocess
import time

import pytest

from portal.settings.base import TASK_QUEUE_NAMES, celery_queue_settings
from tests.workers import celery_processes, wait_until, worker_env


def test_queue_settings_per_broker() -> None:
    for url in ("amqp://guest:guest@127.0.0.1:5672/x", "redis://127.0.0.1:6379/0"):
        conf = celery_queue_settings(url)
        queues = {q.name: q for q in conf["task_queues"]}  # type: ignore[attr-defined]
        assert set(queues) == set(TASK_QUEUE_NAMES)
        for name, queue in queues.items():
            amqp = url.startswith("amqp")
            assert queue.exchange.type == ("topic" if amqp else "direct")
            assert queue.routing_key == name and queue.durable
            assert ((queue.queue_arguments or {}).get("x-queue-type") == "quorum") == amqp
    assert celery_queue_settings("amqp://h/x")["task_default_queue_type"] == "quorum"
    assert "task_default_queue_type" not in celery_queue_settings("redis://h/0")


def _queues(vhost: str) -> dict[str, str]:
    out = subprocess.run(["rabbitmqctl", "-q", "list_queues", "-p", vhost, "name", "type", "durable"],
                         check=True, capture_output=True, text=True, timeout=60).stdout
    rows = [line.split("\t") for line in out.splitlines() if line and not line.startswith("name")]
    return {row[0]: f"{row[1]}:{row[2]}" for row in rows if len(row) == 3}


def _bindings(vhost: str) -> set[tuple[str, str, str]]:
    out = subprocess.run(["rabbitmqctl", "-q", "list_bindings", "-p", vhost, "source_name", "destination_name",
                          "routing_key"], check=True, capture_output=True, text=True, timeout=60).stdout
    return {tuple(line.split("\t")) for line in out.splitlines() if line.count("\t") == 2}  # type: ignore[misc]


@pytest.mark.worker
def test_a_worker_on_rabbitmq_declares_quorum_queues_with_delayed_delivery(amqp_url, tmp_path) -> None:
    vhost = amqp_url.rsplit("/", 1)[1]
    with celery_processes(worker_env(amqp_url), tmp_path) as procs:
        procs.worker("q1")
        deadline = time.monotonic() + 60
        queues: dict[str, str] = {}
        while time.monotonic() < deadline:
            queues = _queues(vhost)
            if set(TASK_QUEUE_NAMES) <= set(queues) and "celery_delayed_0" in queues:
                break
            time.sleep(1)
        for name in TASK_QUEUE_NAMES:
            assert queues.get(name) == "quorum:true", queues
        assert queues["celery_delayed_27"] == "quorum:true"
        # a delayed message leaves celery_delayed_delivery by "#.<queue>" for the queue's own topic exchange
        wait_until(lambda: all(("celery_delayed_delivery", name, f"#.{name}") in _bindings(vhost)
                               for name in TASK_QUEUE_NAMES), timeout=30, what="delayed-delivery bindings")
        assert all((name, name, f"#.{name}") in _bindings(vhost) for name in TASK_QUEUE_NAMES)
        log = (tmp_path / "q1.log").read_text(errors="replace")
        assert "direct exchange" not in log
