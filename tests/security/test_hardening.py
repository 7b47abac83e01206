"""Hardening: headers, deploy checks, schema and docs offline (login lockout: test_lockout.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


def test_csp_has_no_inline_script(client):
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert response["X-Request-ID"]
    assert b"<script>" not in response.content


def test_schema_and_docs_work_offline(client):
    schema = client.get("/api/schema/")
    assert schema.status_code == 200 and b"/api/v1/cases/" in schema.content
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    body = docs.content.decode()
    assert "cdn" not in body.lower() and "http://" not in body.replace("http://testserver", "")


def test_check_deploy_is_clean_under_production_settings():
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="portal.settings.production", SECRET_KEY="k7Gq2vX9pL4mN8rT1wY6zB3cF5hJ0sD-e_aQiUoPlKjHgVbNmCxZ",
               ALLOWED_HOSTS="shouhou.example", SECURE_SSL_REDIRECT="true", DATABASE_URL="sqlite:///:memory:")
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)  # set by the browser tests' conftest, never in deployment
    result = subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
