"""JSON log lines (python-json-logger, configured in settings.LOGGING): every `extra` field is written."""

from __future__ import annotations

import io
import json
import logging
import logging.config

from django_guid import clear_guid, set_guid

from portal.middleware import RequestIdFilter
from portal.settings import base as settings_base


def _production_logger(stream: io.StringIO) -> logging.Logger:
    """A logger with the formatter and filter of the production LOGGING (the test settings turn it off)."""
    configurator = logging.config.DictConfigurator(settings_base.LOGGING)
    formatter = configurator.configure_formatter(dict(settings_base.LOGGING["formatters"]["json"]))
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    handler.addFilter(RequestIdFilter())
    logger = logging.getLogger("tests.json-logs")
    logger.handlers, logger.propagate, logger.level = [handler], False, logging.INFO
    return logger


def test_every_extra_field_is_written():
    stream = io.StringIO()
    log = _production_logger(stream)
    set_guid("req-1")
    try:
        log.info("pickup %s refused", "P1", extra={"reasons": ["remote_region", "too_heavy"], "case": "AS1"})
    finally:
        clear_guid()
    line = json.loads(stream.getvalue().splitlines()[-1])
    assert line["msg"] == "pickup P1 refused" and line["level"] == "INFO" and line["logger"] == "tests.json-logs"
    assert line["reasons"] == ["remote_region", "too_heavy"] and line["case"] == "AS1"
    assert line["request_id"] == "req-1" and line["ts"].endswith("+00:00")


def test_chinese_stays_readable_and_tracebacks_are_kept():
    stream = io.StringIO()
    log = _production_logger(stream)
    try:
        raise ValueError("坏了")
    except ValueError:
        log.exception("售后单 AS2 失败", extra={"task": "execute_refund"})
    raw = stream.getvalue().splitlines()[-1]
    assert "售后单 AS2 失败" in raw  # not \\u escapes
    line = json.loads(raw)
    assert line["task"] == "execute_refund" and "ValueError: 坏了" in line["exc"]
