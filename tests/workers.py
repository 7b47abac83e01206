"""Real Celery worker and beat processes for tests, against Redis and the test database."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from django.conf import settings

ROOT = Path(__file__).resolve().parents[1]


def use_broker(monkeypatch: Any, broker_url: str) -> None:
    """Make this process publish to `broker_url` for real (not eagerly), with that broker's queues."""
    from portal.celery import app
    from portal.settings.base import celery_queue_settings

    monkeypatch.setenv("CELERY_BROKER_URL", broker_url)
    for key, value in celery_queue_settings(broker_url).items():
        monkeypatch.setitem(app.conf, key, value)
    monkeypatch.setitem(app.conf, "task_always_eager", False)
    monkeypatch.setitem(app.conf, "broker_url", broker_url)
    monkeypatch.setattr(app, "_pool", None)
    monkeypatch.setattr(app.amqp, "_producer_pool", None)
    for cached in ("queues", "router", "default_queue"):  # built from the settings on first use
        monkeypatch.delitem(app.amqp.__dict__, cached, raising=False)


def worker_env(broker_url: str, **extra: str) -> dict[str, str]:
    db = settings.DATABASES["default"]
    env = dict(os.environ)
    if db["ENGINE"].endswith("postgresql"):
        env["DATABASE_URL"] = (
            f"postgres://{db.get('USER') or 'postgres'}@{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}"
            f"/{db['NAME']}"
        )
    else:
        env["DATABASE_URL"] = f"sqlite:///{db['NAME']}"
    env.update({
        "DJANGO_SETTINGS_MODULE": "portal.settings.test",
        "CELERY_EAGER": "0",
        "CELERY_BROKER_URL": broker_url,
        "REDIS_URL": "",
        "PYTHONPATH": str(ROOT),
    })
    env.update(extra)
    return env


class Processes:
    def __init__(self, env: dict[str, str], logdir: Path) -> None:
        self.env, self.logdir, self.procs = env, logdir, []

    def start(self, *args: str, name: str) -> subprocess.Popen:
        log = open(self.logdir / f"{name}.log", "ab")  # noqa: SIM115
        proc = subprocess.Popen([sys.executable, "-m", "celery", "-A", "portal", *args], cwd=ROOT, env=self.env,
                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self.procs.append(proc)
        return proc

    def worker(self, name: str, concurrency: int = 2) -> subprocess.Popen:
        return self.start("worker", "-l", "WARNING", "-c", str(concurrency), "-n", f"{name}@%h",
                          "--without-gossip", "--without-mingle", name=name)

    def beat(self, schedule: Path) -> subprocess.Popen:
        return self.start("beat", "-l", "WARNING", "-s", str(schedule), name="beat")

    def kill(self, proc: subprocess.Popen, sig: int = signal.SIGKILL) -> None:
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            pass
        proc.wait(timeout=30)

    def stop_all(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                self.kill(proc)


@contextmanager
def celery_processes(env: dict[str, str], logdir: Path) -> Iterator[Processes]:
    procs = Processes(env, logdir)
    try:
        yield procs
    finally:
        procs.stop_all()


def wait_until(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll the database for a condition with a bounded deadline (not a sleep as synchronisation)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")
