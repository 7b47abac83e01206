"""The demo command: it follows its address, stops its children on every way of closing it, fails loudly."""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
import time

import pytest
from django.core import mail
from django.core.management import CommandError, call_command

from pickups.models import Courier
from portal.management.commands.rundemo import point_simulated_courier
from tests.workers import ROOT, worker_env


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.django_db
def test_the_simulated_courier_follows_the_served_address():
    url = "http://127.0.0.1:8100/simulated-courier/"
    assert point_simulated_courier(url) == 1
    assert Courier.objects.get(code="simulated").base_url == url
    assert point_simulated_courier(url) == 0  # already there: nothing written


@pytest.mark.django_db
def test_rundemo_refuses_a_taken_port_with_an_error():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(CommandError, match="already in use"):
            call_command("rundemo", addr=f"127.0.0.1:{port}")


def test_demo_mail_is_one_log_line_per_message(settings, caplog):
    settings.EMAIL_BACKEND = "portal.mail.LogSummaryEmailBackend"
    with caplog.at_level(logging.INFO, logger="portal.mail"):
        sent = mail.send_mail("售后单 AS1 待您处理", "正文\n" * 50, "a@example.com", ["bob@example.com"])
    assert sent == 1
    assert [r.getMessage() for r in caplog.records] == ["email to bob@example.com: 售后单 AS1 待您处理"]


def _children(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True).stdout
    return [int(x) for x in out.split()]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is dead for our purpose
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_closing_the_terminal_stops_web_and_worker(tmp_path):
    """SIGHUP (the terminal closed) ends rundemo and both children; a dead child makes rundemo exit non-zero."""
    port = _free_port()
    env = worker_env("filesystem://", CELERY_BROKER_URL="filesystem://", PORTAL_VAR_DIR=str(tmp_path),
                     DJANGO_SETTINGS_MODULE="portal.settings.local", DJANGO_DEBUG="0", ALLOWED_HOSTS="127.0.0.1")
    demo = subprocess.Popen([sys.executable, "manage.py", "rundemo", "--addr", f"127.0.0.1:{port}"], cwd=ROOT,
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        children: list[int] = []
        while time.monotonic() < deadline and len(children) < 2:
            children = _children(demo.pid)
            time.sleep(0.2)
        assert len(children) == 2, "web and worker started"
        demo.send_signal(signal.SIGHUP)
        assert demo.wait(timeout=30) is not None
        end = time.monotonic() + 15
        while time.monotonic() < end and any(_alive(c) for c in children):
            time.sleep(0.2)
        assert not any(_alive(c) for c in children), "no orphan web server or worker"
    finally:
        if demo.poll() is None:
            demo.kill()
            demo.wait(timeout=30)
