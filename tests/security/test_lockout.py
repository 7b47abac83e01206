"""Failed-login protection (api.md, "Authentication"): django-axes locks the pair (username, address) after
10 failures in 15 minutes on every login form, a locked attempt runs no password hash, and the username as
a whole is only slowed."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth import hashers
from django.utils import timezone

from portal import login_guard
from tests import factories as f

pytestmark = pytest.mark.django_db
TOKEN = "/api/v1/auth/token/"


@pytest.fixture
def no_sleep(monkeypatch):  # type: ignore[no-untyped-def]
    """Record the slowdown instead of waiting it out (time.sleep is the standard library's)."""
    slept: list[float] = []
    monkeypatch.setattr(time, "sleep", slept.append)
    return slept


@pytest.fixture
def hash_calls(monkeypatch):  # type: ignore[no-untyped-def]
    """Count every password hash the test hasher computes (checking a password, or the dummy run Django
    does for an unknown username)."""
    calls: list[str] = []
    hasher = hashers.MD5PasswordHasher
    encode = hasher.encode

    def counting_encode(self, password, salt):  # type: ignore[no-untyped-def]
        calls.append(salt)
        return encode(self, password, salt)

    monkeypatch.setattr(hasher, "encode", counting_encode)
    return calls


def _token(anon, username: str, password: str, address: str):  # type: ignore[no-untyped-def]
    return anon.post(TOKEN, {"username": username, "password": password}, format="json", REMOTE_ADDR=address)


def test_api_pair_locks_after_ten_failures_and_a_locked_attempt_runs_no_hash(api, hash_calls, no_sleep):
    f.ConsumerFactory(username="victim")
    anon = api()
    for _ in range(10):
        assert _token(anon, "victim", "wrong", "10.0.0.1").status_code == 401
    hash_calls.clear()
    locked = _token(anon, "victim", "pass1234", "10.0.0.1")
    assert locked.status_code == 429 and locked.json()["code"] == "too_many_attempts"
    assert hash_calls == []  # refused before the password was looked at, even the right one
    assert _token(anon, "victim", "pass1234", "10.0.0.2").status_code == 200  # another address: not locked
    assert hash_calls  # and that one was checked


def test_a_stranger_failing_from_many_addresses_never_locks_the_user_out(api, no_sleep):
    f.ConsumerFactory(username="target")
    anon = api()
    for i in range(40):
        assert _token(anon, "target", f"guess{i}", f"203.0.113.{i}").status_code == 401
    assert login_guard.username_failures("target") == 40
    assert no_sleep and max(no_sleep) > 0  # the username as a whole is slowed …
    ok = _token(anon, "target", "pass1234", "198.51.100.7")
    assert ok.status_code == 200 and ok.json()["token"]  # … never locked


def test_the_lock_lasts_fifteen_minutes(api, no_sleep):
    f.ConsumerFactory(username="patient")
    anon = api()
    for _ in range(10):
        _token(anon, "patient", "wrong", "10.0.0.9")
    with time_machine.travel(timezone.now() + timedelta(minutes=14), tick=False):
        assert _token(anon, "patient", "pass1234", "10.0.0.9").status_code == 429
    with time_machine.travel(timezone.now() + timedelta(minutes=16), tick=False):
        assert _token(anon, "patient", "pass1234", "10.0.0.9").status_code == 200


def test_site_login_form_is_covered_with_a_translated_message(client, hash_calls, no_sleep):
    f.ConsumerFactory(username="webuser")
    for _ in range(10):
        r = client.post("/accounts/login/", {"username": "webuser", "password": "wrong"}, REMOTE_ADDR="10.1.1.1")
        assert r.status_code == 200
    hash_calls.clear()
    r = client.post("/accounts/login/", {"username": "webuser", "password": "pass1234"}, REMOTE_ADDR="10.1.1.1")
    assert r.status_code == 429 and "_auth_user_id" not in client.session
    assert "登录失败次数过多，请 15 分钟后再试" in r.content.decode()
    assert hash_calls == []
    r = client.post("/accounts/login/", {"username": "webuser", "password": "pass1234"}, REMOTE_ADDR="10.1.1.1",
                    HTTP_ACCEPT_LANGUAGE="en")
    assert r.status_code == 429 and "Too many failed logins" in r.content.decode()
    r = client.post("/accounts/login/", {"username": "webuser", "password": "pass1234"}, REMOTE_ADDR="10.1.1.2")
    assert r.status_code == 302 and client.session["_auth_user_id"]


def test_admin_login_is_covered(client, hash_calls, no_sleep):
    f.make_staff("adminuser")
    assert client.get("/admin/login/").status_code == 200
    for _ in range(10):
        r = client.post("/admin/login/", {"username": "adminuser", "password": "wrong"}, REMOTE_ADDR="10.2.2.2")
        assert r.status_code == 200
    hash_calls.clear()
    r = client.post("/admin/login/", {"username": "adminuser", "password": "pass1234"}, REMOTE_ADDR="10.2.2.2")
    assert r.status_code == 429 and "登录失败次数过多" in r.content.decode()
    assert hash_calls == [] and "_auth_user_id" not in client.session


def test_failures_are_counted_in_the_database_shared_by_every_process(api, no_sleep):
    """The count is a row (axes' AccessAttempt), not a per-process memory: another process sees it."""
    from axes.models import AccessAttempt

    anon = api()
    for _ in range(3):
        _token(anon, "someone", "wrong", "10.3.3.3")
    row = AccessAttempt.objects.get(username="someone", ip_address="10.3.3.3")
    assert row.failures_since_start == 3


def test_a_success_clears_only_its_own_pair(api, no_sleep):
    f.ConsumerFactory(username="forgetful")
    anon = api()
    for _ in range(5):
        _token(anon, "forgetful", "wrong", "10.4.4.4")
        _token(anon, "forgetful", "wrong", "10.4.4.5")
    assert _token(anon, "forgetful", "pass1234", "10.4.4.4").status_code == 200
    assert login_guard.username_failures("forgetful") == 5


def test_slowdown_grows_and_is_capped(settings):
    settings.LOGIN_SLOWDOWN_AFTER, settings.LOGIN_SLOWDOWN_STEP_SECONDS = 10, 0.2
    settings.LOGIN_SLOWDOWN_MAX_SECONDS = 2
    assert login_guard.username_delay(9) == 0
    assert login_guard.username_delay(10) == pytest.approx(0.2)
    assert login_guard.username_delay(12) == pytest.approx(0.6)
    assert login_guard.username_delay(500) == 2


def test_client_address_trusts_only_the_configured_proxies(rf, settings):
    request = rf.get("/", REMOTE_ADDR="10.9.9.9", HTTP_X_FORWARDED_FOR="1.1.1.1, 2.2.2.2")
    assert login_guard.client_address(request) == "10.9.9.9"
    settings.TRUSTED_PROXY_COUNT = 1
    assert login_guard.client_address(request) == "2.2.2.2"  # "1.1.1.1" is whatever the client claimed


@pytest.mark.parametrize("username", ["x" * 151, "x" * 5000])
def test_hostile_usernames_answer_401_not_500(api, username, no_sleep):
    r = _token(api(), username, "whatever", "10.5.5.5")
    assert r.status_code == 401 and r.json()["code"] == "invalid_credentials"


def test_a_nul_in_the_username_is_a_400_not_a_500(api, no_sleep):
    """JSON text with a NUL is refused by the API's parser (PostgreSQL cannot store it) before any login."""
    r = _token(api(), "a\x00b", "whatever", "10.5.5.5")
    assert r.status_code == 400 and r.json()["code"] in ("invalid", "parse_error")


def test_a_long_user_agent_is_recorded_not_a_500(api, no_sleep):
    r = api().post(TOKEN, {"username": "someone", "password": "x"}, format="json", REMOTE_ADDR="10.6.6.6",
                   HTTP_USER_AGENT="A" * 5000)
    assert r.status_code == 401
