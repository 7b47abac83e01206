"""One phone mask for the merchant's pages and the pickup API (they used to disagree)."""

from __future__ import annotations

import pytest
from django.template import Context, Template

from portal.masking import mask_phone


@pytest.mark.parametrize(("phone", "masked"), [
    ("13800005678", "138****5678"),
    ("0571-88880001", "057****0001"),
    (" 13800005678 ", "138****5678"),
    ("1234567", "****"),  # 3 + 4 kept would show every character
    ("", ""),
    (None, ""),
])
def test_mask_phone(phone, masked):
    assert mask_phone(phone) == masked


def test_the_template_filter_is_the_same_function():
    html = Template("{% load merchant_tags %}{{ p|mask_phone }}").render(Context({"p": "0571-88880001"}))
    assert html == "057****0001"
