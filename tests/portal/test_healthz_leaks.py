"""/healthz names the failing parts and nothing more (api.md): no driver error text, host or user name to
anyone. The details go to the server's log instead."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# What the broken URLs below contain, and what drivers put in their errors: none may reach the body.
SECRETS = ("leaky_db_user", "leaky_db_name", "leaky_replica_user", "leaky_cache_user", "leaky_broker_user",
           "leaky_pw", "127.0.0.1", "localhost", "port", "refused", "Error", "connect", "psycopg", "redis",
           "Traceback")

BROKEN_SETTINGS = textwrap.dedent("""
    import dj_database_url

    from portal.settings.local import *  # noqa: F403

    DATABASES = {
        "default": dj_database_url.parse("postgres://leaky_db_user:leaky_pw@127.0.0.1:1/leaky_db_name"),
        "replica": dj_database_url.parse("postgres://leaky_replica_user:leaky_pw@127.0.0.1:1/leaky_db_name"),
    }
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                          "LOCATION": "redis://leaky_cache_user:leaky_pw@127.0.0.1:1/0"}}
    CELERY_BROKER_URL = "redis://leaky_broker_user:leaky_pw@127.0.0.1:1/0"
    CELERY_BROKER_TRANSPORT_OPTIONS = {"max_retries": 1, "interval_start": 0, "interval_step": 0.1}
""")
PROBE = textwrap.dedent("""
    import json

    import django

    django.setup()
    from django.test import Client

    client = Client(raise_request_exception=False)
    for path in ("/healthz", "/readyz"):
        response = client.get(path)
        print(json.dumps({"path": path, "status": response.status_code, "body": response.content.decode()}))
""")


def test_healthz_with_broken_database_cache_replica_and_broker_urls_names_only_the_parts(tmp_path):
    (tmp_path / "leaky_settings.py").write_text(BROKEN_SETTINGS, encoding="utf-8")
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="leaky_settings", DJANGO_DEBUG="true",
               PYTHONPATH=os.pathsep.join([str(tmp_path), str(ROOT)]), PORTAL_VAR_DIR=str(tmp_path / "var"))
    for name in ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL"):
        env.pop(name, None)
    run = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=60)
    assert run.returncode == 0, run.stderr[-3000:]
    answers = {a["path"]: a for a in map(json.loads, run.stdout.strip().splitlines())}

    health = answers["/healthz"]
    assert health["status"] == 503
    body = json.loads(health["body"])
    assert body == {"status": "unavailable", "failing": ["database", "broker", "workers", "cache", "replica"],
                    "checks": dict.fromkeys(("database", "broker", "workers", "cache", "replica"), "unavailable")}
    ready = answers["/readyz"]
    assert ready["status"] == 503 and json.loads(ready["body"]) == {"status": "unavailable",
                                                                     "database": "unavailable"}
    for answer in answers.values():
        for secret in SECRETS:
            assert secret.lower() not in answer["body"].lower(), (secret, answer)
    # The operator still learns why: the server's log has each failure with its details.
    for part in ("database", "broker", "cache", "replica replica"):
        assert f"health check: {part} unavailable" in run.stderr, part
    assert "127.0.0.1" in run.stderr


@pytest.mark.django_db
def test_healthz_names_a_broken_broker_without_its_url_or_error(client, caplog):
    from portal.celery import app

    saved = app.conf.broker_url
    app.conf.broker_url = "redis://leaky_broker_user:leaky_pw@127.0.0.1:1/0"
    app._pool = None
    try:
        with caplog.at_level("WARNING", logger="portal.health"):
            response = client.get("/healthz")
    finally:
        app.conf.broker_url = saved
        app._pool = None
    assert response.status_code == 503
    body = response.json()
    assert body["checks"]["broker"] == "unavailable" and body["failing"][:2] == ["broker", "workers"]
    for secret in SECRETS:
        assert secret.lower() not in response.content.decode().lower(), secret
    assert any("broker unavailable" in r.getMessage() and r.exc_info for r in caplog.records)
