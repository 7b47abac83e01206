"""Helpers for the shopper's page tests: cases are made through the real services."""

from __future__ import annotations

import pytest

from cases import services
from tests import factories as f


@pytest.fixture
def shopper(client, consumer):  # type: ignore[no-untyped-def]
    client.force_login(consumer)
    return client


@pytest.fixture
def make_case(consumer, item):  # type: ignore[no-untyped-def]
    def make(kind: str = "return_refund", reason: str = "no_reason", target_item=None, **extra):  # type: ignore[no-untyped-def]
        it = target_item or item
        defaults = {"quantity": 1, "condition_intact": True}
        if reason in ("quality_issue", "not_as_described", "wrong_item", "missing_parts", "damaged_in_transit"):
            from django.core.files.base import ContentFile

            defaults["evidence_files"] = [ContentFile(f.jpeg_bytes(), name="a.jpg")]
        defaults.update(extra)
        return services.case_submit(consumer=it.order.consumer, order_item_id=it.pk, kind=kind, reason=reason,
                                    **defaults)

    return make
