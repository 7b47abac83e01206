"""A throwaway primary and its streaming replica (deploy/postgres/replica.sh), the portal in front: queue reads
come from the replica, a user's reads right after their own write come from the primary, and a replica that
falls behind is named on /healthz and skipped for reads until it catches up."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import requests

from tests.conftest import IN_CI
from tests.workers import wait_until

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "deploy" / "postgres" / "replica.sh"
MAX_LAG = 5


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def replica_pair() -> Iterator[tuple[int, int]]:
    if shutil.which("pg_basebackup") is None or shutil.which("pg_ctl") is None:
        if IN_CI:
            pytest.fail("PostgreSQL server binaries (initdb, pg_ctl, pg_basebackup) are required in CI")
        pytest.skip("no PostgreSQL server binaries")
    workdir = tempfile.mkdtemp(prefix="shouhou-replica-")  # not under pytest's tmp_path: postgres must enter it
    primary, replica = free_port(), free_port()
    try:
        subprocess.run([str(SCRIPT), "pair", workdir, str(primary), str(replica)], check=True, timeout=120,
                       capture_output=True)
        yield primary, replica
    finally:
        subprocess.run([str(SCRIPT), "stop", workdir], timeout=60, capture_output=True)
        shutil.rmtree(workdir, ignore_errors=True)


def sql(port: int, query: str, dbname: str = "shouhou") -> object:
    with psycopg.connect(host="127.0.0.1", port=port, user="postgres", dbname=dbname, autocommit=True) as conn:
        cursor = conn.execute(query)
        row = cursor.fetchone() if cursor.description else None
    return row[0] if row else None


def caught_up(primary: int, replica: int) -> None:
    lsn = sql(primary, "SELECT pg_current_wal_lsn()")
    wait_until(lambda: sql(replica, f"SELECT pg_last_wal_replay_lsn() >= '{lsn}'::pg_lsn"), timeout=30,
               what="the replica to replay the primary's WAL")


def test_queue_reads_from_the_replica_and_a_writer_reads_the_primary(replica_pair, tmp_path) -> None:
    primary, replica = replica_pair
    sql(primary, "CREATE DATABASE shouhou", dbname="postgres")
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "portal.settings.test", "PYTHONPATH": str(ROOT),
           "DATABASE_URL": f"postgres://postgres@127.0.0.1:{primary}/shouhou", "REDIS_URL": "",
           "CELERY_BROKER_URL": "", "PORTAL_VAR_DIR": str(tmp_path / "var")}
    env.pop("DATABASE_REPLICA_URL", None)
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True, timeout=300)
    world = json.loads(subprocess.run([sys.executable, "-m", "tests.ops.replica_world"], cwd=ROOT, env=env,
                                      check=True, timeout=120, capture_output=True, text=True).stdout)
    port = free_port()
    web_env = {**env, "DATABASE_REPLICA_URL": f"postgres://postgres@127.0.0.1:{replica}/shouhou",
               "DATABASE_REPLICA_MAX_LAG_SECONDS": str(MAX_LAG)}
    log = open(tmp_path / "web.log", "wb")  # noqa: SIM115
    web = subprocess.Popen([sys.executable, "-m", "gunicorn", "portal.wsgi", "-w", "1", "-b", f"127.0.0.1:{port}"],
                           cwd=ROOT, env=web_env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"

    def get(path: str, who: str) -> requests.Response:
        return requests.get(base + path, headers={"Authorization": f"Bearer {world[who]}"}, timeout=10)

    def queue_state(who: str) -> str:
        response = get(f"/api/v1/cases/?shop={world['shop']}&ordering=deadline", who)
        assert response.status_code == 200, response.text
        return next(row["state"] for row in response.json()["results"] if row["id"] == world["case"])

    def health() -> dict:
        return requests.get(base + "/healthz", timeout=10).json()

    try:
        def up() -> bool:
            try:
                return requests.get(base + "/readyz", timeout=5).status_code == 200
            except requests.RequestException:
                return False

        wait_until(up, timeout=60, what="gunicorn")
        caught_up(primary, replica)
        assert health()["checks"]["replica"] == "ok"
        assert queue_state("colleague") == "pending_merchant"

        # The replica stops replaying: what the merchant does now exists only on the primary.
        sql(replica, "SELECT pg_wal_replay_pause()")
        approved = requests.post(f"{base}/api/v1/cases/{world['case']}/actions/approve/", json={},
                                 headers={"Authorization": f"Bearer {world['merchant']}"}, timeout=10)
        assert approved.status_code == 200, approved.text
        assert approved.json()["state"] == "refunded"
        started = time.monotonic()
        # The writer reads their own write (pinned to the primary), on the queue and on the case.
        assert queue_state("merchant") == "refunded"
        assert get(f"/api/v1/cases/{world['case']}/", "merchant").json()["state"] == "refunded"
        # A colleague who wrote nothing reads the queue from the replica: a second behind, as documented.
        colleague_saw = queue_state("colleague")
        if time.monotonic() - started < MAX_LAG - 2:  # (a very slow machine would already have skipped it)
            assert colleague_saw == "pending_merchant"
        # Past the threshold the replica is named on /healthz (200: reads fall back to the primary) ...
        wait_until(lambda: "replica" in health()["failing"], timeout=30, what="/healthz to report the lag")
        body = requests.get(base + "/healthz", timeout=10)
        assert body.status_code == 200 and body.json()["status"] == "degraded"
        assert body.json()["checks"]["replica"] == "unavailable"
        # ... and, once each web process's once-a-second lag check has seen it, the queue is read from the
        # primary again (replay is still paused: "refunded" can only come from the primary).
        wait_until(lambda: queue_state("colleague") == "refunded", timeout=10, what="reads to fall back")

        sql(replica, "SELECT pg_wal_replay_resume()")
        wait_until(lambda: health()["checks"]["replica"] == "ok", timeout=30, what="the replica to catch up")
        assert queue_state("colleague") == "refunded"
    finally:
        web.terminate()
        web.wait(timeout=20)
        log.close()
