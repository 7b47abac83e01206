"""The desk speaks Simplified Chinese by default and English when asked."""

from __future__ import annotations

from django.urls import reverse


def test_chinese_by_default_english_on_request(merchant_client, make_case):
    case = make_case()
    zh = merchant_client.get(reverse("merchant:queue")).content.decode()
    assert "售后工作台" in zh and "批量同意" in zh
    en = merchant_client.get(reverse("merchant:queue"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Service desk" in en and "Approve selected" in en and "批量同意" not in en
    page = merchant_client.get(reverse("merchant:case", args=[case.pk]), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Buyer request" in page and "Reject request" in page
    metrics = merchant_client.get(reverse("merchant:metrics"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Refund rate" in metrics and "nearest rank" in metrics
