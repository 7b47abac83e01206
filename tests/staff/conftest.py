from __future__ import annotations

import pytest
from django.test import Client

from tests import factories as f
from tests.staff.helpers import disputed_case


@pytest.fixture
def client_for(db):  # type: ignore[no-untyped-def]
    """A Django test client logged in as the given user (admin pages use the session)."""

    def make(user):  # type: ignore[no-untyped-def]
        client = Client()
        client.force_login(user)
        return client

    return make


@pytest.fixture
def dispute(consumer, merchant, item):  # type: ignore[no-untyped-def]
    return disputed_case(consumer, merchant, item)


@pytest.fixture
def other_agent(db):  # type: ignore[no-untyped-def]
    return f.make_staff("erin")
