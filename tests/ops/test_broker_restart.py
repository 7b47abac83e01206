"""A broker restarted with payouts waiting in it: every refund is still paid exactly once.

Each run starts a broker of its own (never the machine's): a RabbitMQ node in a temporary directory on free
ports, restarted with `stop_app`/`start_app` (connections dropped, queues recovered from disk), or a
redis-server without persistence, killed and started again. On RabbitMQ the quorum queue still holds every
payout message after the restart and the worker pays from those; Redis forgets them, and the periodic
`retry-pending-refunds` pays from the database instead."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from cases import services
from cases.models import Refund
from cases.payments import SimulatedPayout
from tests import factories as f
from tests.conftest import IN_CI
from tests.workers import celery_processes, use_broker, wait_until, worker_env

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]
PAYOUTS = 20


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _need(binary: str) -> None:
    if shutil.which(binary) is None:
        if IN_CI:
            pytest.fail(f"{binary} is required in CI")
        pytest.skip(f"no {binary}")


@dataclass
class PrivateRabbit:
    workdir: Path
    port: int = field(default_factory=free_port)
    node: str = ""

    def __post_init__(self) -> None:
        self.node = f"shouhou-{os.getpid()}-{self.port}@localhost"

    @property
    def url(self) -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.port}//"

    def ctl(self, *args: str, timeout: float = 120) -> str:
        return subprocess.run(["rabbitmqctl", "-q", "-n", self.node, *args], check=True, capture_output=True,
                              text=True, timeout=timeout).stdout

    def start(self) -> None:
        (self.workdir / "enabled_plugins").write_text("[].\n")
        if os.geteuid() == 0:  # the server scripts drop to the rabbitmq user, which must own the directory
            shutil.chown(self.workdir, "rabbitmq", "rabbitmq")
            shutil.chown(self.workdir / "enabled_plugins", "rabbitmq", "rabbitmq")
        env = {**os.environ, "RABBITMQ_NODENAME": self.node, "RABBITMQ_NODE_PORT": str(self.port),
               "RABBITMQ_DIST_PORT": str(free_port()), "RABBITMQ_MNESIA_BASE": str(self.workdir / "mnesia"),
               "RABBITMQ_LOG_BASE": str(self.workdir / "log"), "RABBITMQ_PID_FILE": str(self.workdir / "pid"),
               "RABBITMQ_ENABLED_PLUGINS_FILE": str(self.workdir / "enabled_plugins"),
               "RABBITMQ_CONFIG_FILE": str(self.workdir / "rabbitmq"),
               "RABBITMQ_ADVANCED_CONFIG_FILE": str(self.workdir / "advanced.config")}
        subprocess.run(["rabbitmq-server", "-detached"], check=True, env=env, timeout=60, capture_output=True)
        deadline = time.monotonic() + 120
        while True:
            try:
                self.ctl("await_startup", "--timeout", "30", timeout=40)
                return
            except subprocess.CalledProcessError:  # not registered with epmd yet
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)

    def restart(self) -> None:
        self.ctl("stop_app")
        self.ctl("start_app")
        self.ctl("await_startup", "--timeout", "60")

    def messages(self, queue: str) -> int:
        for line in self.ctl("list_queues", "name", "messages").splitlines():
            name, _, count = line.partition("\t")
            if name == queue:
                return int(count)
        return 0

    def stop(self) -> None:
        """Kill this node by the pid it wrote (a graceful `rabbitmqctl stop` takes ~10 s; nothing is kept)."""
        try:
            os.kill(int((self.workdir / "pid").read_text().strip()), signal.SIGKILL)
        except (OSError, ValueError):
            subprocess.run(["rabbitmqctl", "-q", "-n", self.node, "stop"], capture_output=True, timeout=120)


@dataclass
class PrivateRedis:
    workdir: Path
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        import redis

        self.proc = subprocess.Popen(["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                                      "--appendonly", "no", "--dir", str(self.workdir)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        client = redis.Redis.from_url(self.url)

        def up() -> bool:
            try:
                return bool(client.ping())
            except redis.RedisError:
                return False

        wait_until(up, timeout=30, what="redis-server")

    def restart(self) -> None:
        self.stop()
        self.start()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=30)


@pytest.fixture(params=["redis", "rabbitmq"])
def private_broker(request: pytest.FixtureRequest) -> Iterator[PrivateRabbit | PrivateRedis]:
    _need("redis-server" if request.param == "redis" else "rabbitmq-server")
    workdir = Path(tempfile.mkdtemp(prefix="shouhou-broker-"))
    os.chmod(workdir, 0o755)
    broker = PrivateRedis(workdir) if request.param == "redis" else PrivateRabbit(workdir)
    try:
        broker.start()
        yield broker
    finally:
        broker.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def test_broker_restart_with_payouts_pending(postgres, private_broker, tmp_path, monkeypatch):
    use_broker(monkeypatch, private_broker.url)
    consumer = f.ConsumerFactory(username="restart", good_standing=False)
    merchant = f.MerchantFactory(username="restart-m")
    shop = f.ShopFactory(code="restart", members=[merchant])
    rabbit = isinstance(private_broker, PrivateRabbit)
    if rabbit:  # the quorum queues exist before anything is published to them, as once a worker has run
        from portal.celery import app

        with app.connection_for_write() as conn:
            for queue in app.amqp.queues.values():
                queue.bind(conn.default_channel).declare()
    refunds = []
    for _ in range(PAYOUTS):  # each approval publishes its payout after commit; no worker is running
        item = f.OrderItemFactory(order=f.OrderFactory(consumer=consumer, shop=shop))
        case = services.case_submit(consumer=consumer, order_item_id=item.pk, kind="refund_only", reason="other",
                                    quantity=1, amount="20.00")
        services.case_approve(case_id=case.pk, actor=merchant)
        refunds.append(Refund.objects.get(case=case))
    assert all(r.status == "pending" for r in refunds)
    if rabbit:  # (a quorum queue's counters are published every few seconds)
        wait_until(lambda: private_broker.messages("payments") == PAYOUTS, timeout=30, what="20 messages queued")
    private_broker.restart()
    if rabbit:  # durable: the restart lost nothing
        wait_until(lambda: private_broker.messages("payments") == PAYOUTS, timeout=30,
                   what="the 20 messages back after the restart")
    # On RabbitMQ no beat runs: the payouts come from the queue alone. On Redis they are gone and the
    # periodic retry finds the pending refunds in the database.
    extra = {} if rabbit else {"REFUND_RETRY_AFTER_SECONDS": "0", "REFUND_RETRY_SWEEP_SECONDS": "1"}
    with celery_processes(worker_env(private_broker.url, **extra), tmp_path) as procs:
        procs.worker("payer", concurrency=2)
        if not rabbit:
            procs.beat(tmp_path / "beat")
        wait_until(lambda: Refund.objects.filter(pk__in=[r.pk for r in refunds], status="succeeded").count()
                   == PAYOUTS, timeout=120, what="every refund paid after the broker restart")
    for refund in refunds:
        assert SimulatedPayout.objects.filter(idempotency_key=refund.idempotency_key).count() == 1
