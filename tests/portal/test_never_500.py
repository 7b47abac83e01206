"""Never a 500 (api.md), in any settings: the admin's login page for a visitor, and every path without its
trailing slash, GET and POST, with DEBUG on and off."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

pytestmark = pytest.mark.django_db
SAMPLE = {"int": "1", "str": "x", "slug": "x", "path": "x", "uuid": "00000000-0000-0000-0000-000000000000"}


def _sample_regex(regex: str) -> str:
    """A path that a regex pattern (the admin's few) could match: first alternative of each named group."""
    def group(m: re.Match[str]) -> str:
        body = m.group(1)
        return body.split("|")[0] if re.fullmatch(r"[\w|]+", body) else "1"

    text = re.sub(r"\(\?P<\w+>([^)]*)\)", group, regex)
    return re.sub(r"\\Z|[\^$]", "", text)


def _sample(pattern: Any) -> str:
    route = getattr(pattern, "_route", None)
    if route is not None:
        return re.sub(r"<(?:(\w+):)?\w+>", lambda m: SAMPLE.get(m.group(1) or "str", "x"), route)
    return _sample_regex(pattern.regex.pattern)


def every_path() -> list[str]:
    def walk(patterns: list[Any], prefix: str) -> Any:
        for p in patterns:
            if isinstance(p, URLResolver):
                yield from walk(p.url_patterns, prefix + _sample(p.pattern))
            elif isinstance(p, URLPattern):
                yield prefix + _sample(p.pattern)

    return sorted({"/" + path for path in walk(get_resolver().url_patterns, "")})


@pytest.fixture
def superuser(db: Any) -> Any:
    from portal.models import User

    return User.objects.create_superuser("root", "root@example.com", "root-pass-1")


def test_the_walk_sees_the_whole_project():
    paths = every_path()
    assert "/api/v1/auth/token/" in paths and "/admin/login/" in paths and "/accounts/login/" in paths
    assert len(paths) > 60


@pytest.mark.parametrize("debug", [True, False], ids=["DEBUG", "no-DEBUG"])
def test_no_path_without_its_trailing_slash_is_a_500(settings, superuser, debug):
    settings.DEBUG = debug
    anonymous, signed_in = Client(raise_request_exception=False), Client(raise_request_exception=False)
    signed_in.force_login(superuser)
    failures = []
    for path in every_path():
        bare = path.rstrip("/") or "/"
        for who, client in (("anonymous", anonymous), ("superuser", signed_in)):
            for method in ("get", "post"):
                status = getattr(client, method)(bare).status_code
                if status >= 500:
                    failures.append(f"{method.upper()} {bare} as {who}: {status}")
    assert not failures, failures


@pytest.mark.parametrize("debug", [True, False], ids=["DEBUG", "no-DEBUG"])
def test_api_token_without_its_slash_answers_like_with_it(settings, consumer, debug):
    settings.DEBUG = debug
    client = Client(raise_request_exception=False)
    response = client.post("/api/v1/auth/token", {"username": "alice", "password": "pass1234"},
                           content_type="application/json")
    assert response.status_code == 200 and response.json()["token"]
    wrong = client.post("/api/v1/auth/token", {"username": "alice", "password": "nope"},
                        content_type="application/json")
    assert wrong.status_code == 401 and wrong.json()["code"] == "invalid_credentials"


@pytest.mark.parametrize("debug", [True, False], ids=["DEBUG", "no-DEBUG"])
def test_a_page_posted_without_its_slash_is_redirected_keeping_the_method(settings, debug):
    settings.DEBUG = debug
    response = Client(raise_request_exception=False).post("/accounts/login?next=/orders/", {"username": "a"})
    assert response.status_code == 308 and response["Location"] == "/accounts/login/?next=/orders/"
    assert Client().get("/accounts/login").status_code == 301


@pytest.mark.parametrize("debug", [True, False], ids=["DEBUG", "no-DEBUG"])
def test_admin_login_page_answers_a_visitor_not_signed_in(settings, debug):
    settings.DEBUG = debug
    client = Client(raise_request_exception=False)
    response = client.get("/admin/login/")
    assert response.status_code == 200 and b'name="password"' in response.content
    assert client.get("/admin/logout/").status_code in (200, 302, 405)
    assert client.get("/admin/").status_code == 302
