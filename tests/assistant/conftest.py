"""The assistant's models are built once per test session, from the shipped data, into an empty folder:
the first use after a bare `migrate` (no model file) is exactly what every test here starts from."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from cases import services
from cases.assistant import model_store
from tests import factories as f


@pytest.fixture(scope="session")
def assistant_model_dir(tmp_path_factory, django_db_setup):  # type: ignore[no-untyped-def]
    from django.conf import settings

    folder = tmp_path_factory.mktemp("assistant-models")
    previous = getattr(settings, "ASSISTANT_MODEL_DIR", "")
    settings.ASSISTANT_MODEL_DIR = str(folder)
    model_store.reset()
    assert not model_store.model_path().exists()
    yield folder
    settings.ASSISTANT_MODEL_DIR = previous
    model_store.reset()


@pytest.fixture(autouse=True)
def _models(assistant_model_dir):  # type: ignore[no-untyped-def]
    return assistant_model_dir


def photo() -> SimpleUploadedFile:
    return SimpleUploadedFile("crack.jpg", f.jpeg_bytes(), content_type="image/jpeg")


def open_quality_case(item, consumer, description: str = "收到的杯子裂了"):  # type: ignore[no-untyped-def]
    return services.case_submit(consumer=consumer, order_item_id=item.pk, kind="return_refund",
                                reason="quality_issue", description=description, evidence_files=[photo()])
