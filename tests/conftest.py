"""Shared fixtures. PostgreSQL and Redis are used when configured; in CI a missing one fails the run."""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

from tests import factories as f

IN_CI = os.environ.get("CI", "").lower() == "true"
SOAK = bool(os.environ.get("SOAK"))

# Per-test limits (seconds) for the slow kinds; every other test has pyproject's `timeout = 300`. Under SOAK the
# long runs (1000 race rounds, the whole crawl, the long model run) get an hour.
LONG_TIMEOUTS = {"worker": 900, "e2e": 900, "race": 900, "crawl": 1200, "model": 1200}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Give marked slow tests their longer limit unless the test sets its own `@pytest.mark.timeout`."""
    for item in items:
        if item.get_closest_marker("timeout"):
            continue
        limits = [seconds for marker, seconds in LONG_TIMEOUTS.items() if item.get_closest_marker(marker)]
        if limits:
            item.add_marker(pytest.mark.timeout(3600 if SOAK else max(limits)))


def pytest_configure(config: pytest.Config) -> None:
    if IN_CI:
        from django.conf import settings

        engine = settings.DATABASES["default"]["ENGINE"]
        if "postgresql" not in engine:
            raise pytest.UsageError("CI=true but DATABASE_URL does not point at PostgreSQL")
        if not os.environ.get("REDIS_URL"):
            raise pytest.UsageError("CI=true but REDIS_URL is not set")


@pytest.fixture
def redis_url() -> str:
    """A live Redis URL; skipped locally when none is configured, a failure in CI."""
    url = os.environ.get("REDIS_URL", "")
    if not url:
        if IN_CI:
            pytest.fail("REDIS_URL is required in CI")
        pytest.skip("no REDIS_URL")
    import redis

    try:
        redis.Redis.from_url(url).ping()
    except Exception as exc:  # noqa: BLE001
        if IN_CI:
            pytest.fail(f"Redis at {url} is not answering: {exc}")
        pytest.skip(f"Redis not answering: {exc}")
    return url


def _rabbitmqctl(*args: str) -> None:
    subprocess.run(["rabbitmqctl", "-q", *args], check=True, capture_output=True, timeout=60)


@pytest.fixture
def amqp_url() -> Iterator[str]:
    """A RabbitMQ virtual host of this test's own (RABBITMQ_URL names the server), deleted afterwards.

    RabbitMQ keeps queues between runs, and a queue once declared classic cannot be redeclared quorum:
    a fresh vhost per test starts from nothing. Skipped locally without RABBITMQ_URL, a failure in CI.
    """
    base = os.environ.get("RABBITMQ_URL", "")
    if not base:
        if IN_CI:
            pytest.fail("RABBITMQ_URL is required in CI")
        pytest.skip("no RABBITMQ_URL")
    parts = urlsplit(base)
    vhost = f"shouhou-test-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    try:
        _rabbitmqctl("add_vhost", vhost)
        _rabbitmqctl("set_permissions", "-p", vhost, parts.username or "guest", ".*", ".*", ".*")
    except (OSError, subprocess.SubprocessError) as exc:
        if IN_CI:
            pytest.fail(f"RabbitMQ at {parts.hostname}:{parts.port} is not usable: {exc}")
        pytest.skip(f"RabbitMQ not usable: {exc}")
    try:
        yield f"{parts.scheme}://{parts.netloc}/{vhost}"
    finally:
        _rabbitmqctl("delete_vhost", vhost)


@pytest.fixture(params=["redis", "rabbitmq"])
def broker_url(request: pytest.FixtureRequest) -> str:
    """The worker tests run once on each broker the project supports, each starting empty."""
    if request.param == "rabbitmq":
        return request.getfixturevalue("amqp_url")
    url = request.getfixturevalue("redis_url")
    import redis

    redis.Redis.from_url(url).flushdb()
    return url


@pytest.fixture
def postgres() -> None:
    from django.db import connection

    if connection.vendor != "postgresql":
        if IN_CI:
            pytest.fail("PostgreSQL is required in CI")
        pytest.skip("needs PostgreSQL (set DATABASE_URL)")


@pytest.fixture(autouse=True)
def _clear_cache_and_media(settings, tmp_path):  # type: ignore[no-untyped-def]
    from django.core.cache import cache

    settings.MEDIA_ROOT = str(tmp_path / "media")
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def consumer(db):  # type: ignore[no-untyped-def]
    return f.ConsumerFactory(username="alice")


@pytest.fixture
def merchant(db):  # type: ignore[no-untyped-def]
    return f.MerchantFactory(username="bob")


@pytest.fixture
def shop(db, merchant):  # type: ignore[no-untyped-def]
    return f.ShopFactory(code="acme", members=[merchant])


@pytest.fixture
def agent(db):  # type: ignore[no-untyped-def]
    return f.make_staff("carol")


@pytest.fixture
def supervisor(db):  # type: ignore[no-untyped-def]
    return f.make_staff("dave", supervisor=True)


@pytest.fixture
def item(db, consumer, shop):  # type: ignore[no-untyped-def]
    """An item signed for two days ago: eligible for every kind with the common reasons."""
    order = f.OrderFactory(consumer=consumer, shop=shop)
    return f.OrderItemFactory(order=order, quantity=2, unit_price="99.00", paid="188.00")


@pytest.fixture
def api(db):  # type: ignore[no-untyped-def]
    """An API client factory: api(user) gives a DRF client authenticated with a real Bearer token."""
    from rest_framework.test import APIClient

    from portal.models import ApiToken

    def make(user=None):  # type: ignore[no-untyped-def]
        client = APIClient()
        if user is not None:
            client.credentials(HTTP_AUTHORIZATION=f"Bearer {ApiToken.issue(user)}")
        return client

    return make


def ensure_reference_data() -> None:
    """What `migrate` creates (regions, the simulated courier, staff groups), back after a flush.

    Transactional tests end with a flush that empties every table, data migrations' rows included.
    """
    import importlib

    from django.apps import apps
    from django.contrib.auth.models import Group, Permission

    from portal.models import Region

    if not Region.objects.exists():
        importlib.import_module("portal.migrations.0002_regions").load_regions(apps, None)
        importlib.import_module("portal.migrations.0005_regions_gbt2260").load(apps, None)
    from pickups.models import Courier

    if not Courier.objects.filter(code="simulated").exists():
        importlib.import_module("pickups.migrations.0002_simulated_courier").create_simulated(apps, None)
        importlib.import_module("pickups.migrations.0007_repair_visits_and_interception_requests"
                                ).simulated_offers_visits(apps, None)
    if not Group.objects.filter(name="agents").exists():
        groups = importlib.import_module("portal.migrations.0003_staff_groups")

        def perms(pairs):  # type: ignore[no-untyped-def]
            return [Permission.objects.get(content_type__app_label=a, codename=c) for a, c in pairs]

        agents, _ = Group.objects.get_or_create(name="agents")
        supervisors, _ = Group.objects.get_or_create(name="supervisors")
        agents.permissions.add(*perms(groups.AGENT_PERMISSIONS))
        supervisors.permissions.add(*perms(groups.AGENT_PERMISSIONS), *perms(groups.SUPERVISOR_EXTRA))


@pytest.fixture(autouse=True)
def _reference_data(request):  # type: ignore[no-untyped-def]
    uses_db = request.node.get_closest_marker("django_db") is not None or any(
        name in request.fixturenames for name in ("db", "transactional_db", "live_server"))
    if uses_db:
        request.getfixturevalue("_django_db_helper")
        ensure_reference_data()
