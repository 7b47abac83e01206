"""Wallet entries' reasons, stored as Chinese sentences by the money code, read in the admin's language."""

from __future__ import annotations

import pytest
from django.urls import reverse

from portal.labels import wallet_reason_label
from portal.models import Wallet, WalletEntry

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("lang, shown, hidden", [
    ("en", ["Ruling compensation AS1", "Coupon returned with the whole-order refund O-9", "手写的原因"],
     ["平台裁决补偿", "整单退款返还优惠券"]),
    ("zh-hans", ["平台裁决补偿 AS1", "整单退款返还优惠券 O-9"], ["Ruling compensation"]),
])
def test_the_admin_shows_wallet_reasons_in_its_language(client_for, agent, consumer, lang, shown, hidden):
    wallet = Wallet.objects.create(user=consumer, points=30)
    for key, reason in (("a", "平台裁决补偿 AS1"), ("b", "整单退款返还优惠券 O-9"), ("c", "手写的原因")):
        WalletEntry.objects.create(wallet=wallet, key=key, points=10, reason=reason)
    client = client_for(agent)
    client.cookies["django_language"] = lang
    pages = [client.get(reverse("admin:portal_walletentry_changelist")),
             client.get(reverse("admin:portal_wallet_change", args=[wallet.pk])),
             client.get(reverse("admin:portal_walletentry_change", args=[WalletEntry.objects.get(key="a").pk]))]
    assert [p.status_code for p in pages] == [200, 200, 200]
    html = pages[0].content.decode() + pages[1].content.decode()
    for text in shown:
        assert text in html, text
    for text in hidden:
        assert text not in html, text
    assert shown[0] in pages[2].content.decode()


def test_an_unknown_reason_stays_as_written():
    assert wallet_reason_label("平台裁决补偿") == "平台裁决补偿"  # no number: not the money code's sentence
    assert wallet_reason_label("") == ""
