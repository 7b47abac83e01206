"""Request ids (django-guid): the id of a request follows it into the tasks it queues, through a real
message on the configured broker and a real worker thread, and every log line of the task carries it."""

from __future__ import annotations

import logging
import uuid

import pytest
from django.urls import reverse

from cases.merchant.models import ExportJob
from portal.middleware import RequestIdFilter


class Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []
        self.addFilter(RequestIdFilter())

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def captured():  # type: ignore[no-untyped-def]
    handler = Capture()
    logger = logging.getLogger("cases.merchant.services")
    logger.addHandler(handler)
    previous = logger.level
    logger.setLevel(logging.INFO)
    yield handler.records
    logger.removeHandler(handler)
    logger.setLevel(previous)


@pytest.fixture
def worker(monkeypatch):  # type: ignore[no-untyped-def]
    """A worker thread consuming the configured broker (Redis when REDIS_URL is set, else the filesystem
    broker), with tasks sent as messages, not run eagerly."""
    from celery.contrib.testing.worker import start_worker

    from portal.celery import app

    monkeypatch.setitem(app.conf, "task_always_eager", False)
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10,
                      queues=["default"]):
        yield app


def test_a_requests_id_follows_it_into_its_export_task(transactional_db, merchant, shop, settings, worker,
                                                       captured, client):
    from tests.workers import wait_until

    settings.MERCHANT_EXPORT_SYNC_LIMIT = 0
    client.force_login(merchant)
    rid = uuid.uuid4().hex
    response = client.post(reverse("merchant:export"), {}, HTTP_X_REQUEST_ID=rid)
    assert response.status_code == 302 and response["X-Request-ID"] == rid
    job = ExportJob.objects.get()
    wait_until(lambda: ExportJob.objects.get(pk=job.pk).status == "done", timeout=30, what="the export task")
    task_lines = [r for r in captured if "written" in r.getMessage()]
    assert task_lines and all(r.request_id == rid for r in task_lines)


def test_an_id_that_is_not_a_uuid_is_replaced(client):
    response = client.get("/accounts/login/", HTTP_X_REQUEST_ID="x\nforged log line")
    assert response["X-Request-ID"] != "x\nforged log line" and uuid.UUID(response["X-Request-ID"])


def test_an_eager_task_keeps_the_callers_id(transactional_db, merchant, shop, captured, client, settings):
    """The test settings run tasks eagerly, at the view's commit: the task logs under the request's id and
    the request keeps it afterwards (django-guid alone would give the task a new id and clear the request's)."""
    settings.MERCHANT_EXPORT_SYNC_LIMIT = 0
    client.force_login(merchant)
    rid = uuid.uuid4().hex
    response = client.post(reverse("merchant:export"), {}, HTTP_X_REQUEST_ID=rid)
    assert response["X-Request-ID"] == rid  # not lost to the task that ran in between
    assert [r.request_id for r in captured if "written" in r.getMessage()] == [rid]
