"""Live pages: a poll answers 204 while nothing changed and the page (with its regions) once something did."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from cases import services

pytestmark = pytest.mark.django_db


def _poll_url(html: str) -> str:
    match = re.search(r'id="live-poller"[^>]*hx-get="([^"]+)"', html)
    assert match, "the page has a poller"
    return match.group(1).replace("&amp;", "&")


def test_the_case_page_poll_is_204_until_the_merchant_acts(shopper, make_case, merchant, client):
    case = make_case()
    url = _poll_url(shopper.get(reverse("web:case", args=[case.pk])).content.decode())
    assert shopper.get(url, HTTP_HX_REQUEST="true").status_code == 204
    services.message_post(case_id=case.pk, author=merchant, body="您好，请问具体哪里有问题？")
    changed = shopper.get(url, HTTP_HX_REQUEST="true")
    assert changed.status_code == 200
    html = changed.content.decode()
    assert "您好，请问具体哪里有问题？" in html and 'id="chat-list"' in html
    assert _poll_url(html) != url  # the new poller carries the new version
    services.case_approve(case_id=case.pk, actor=merchant)
    assert shopper.get(_poll_url(html), HTTP_HX_REQUEST="true").status_code == 200


def test_the_merchant_queue_and_case_page_poll(client, make_case, merchant):
    case = make_case()
    client.force_login(merchant)
    queue_poll = _poll_url(client.get(reverse("merchant:queue") + "?sort=deadline").content.decode())
    assert "sort=deadline" in queue_poll and queue_poll.count("live=") == 1
    case_poll = _poll_url(client.get(reverse("merchant:case", args=[case.pk])).content.decode())
    assert client.get(queue_poll, HTTP_HX_REQUEST="true").status_code == 204
    assert client.get(case_poll, HTTP_HX_REQUEST="true").status_code == 204
    services.case_approve(case_id=case.pk, actor=merchant)
    assert client.get(queue_poll, HTTP_HX_REQUEST="true").status_code == 200
    assert client.get(case_poll, HTTP_HX_REQUEST="true").status_code == 200


def test_a_poll_without_htmx_is_just_the_page(shopper, make_case):
    case = make_case()
    url = _poll_url(shopper.get(reverse("web:case", args=[case.pk])).content.decode())
    assert shopper.get(url).status_code == 200
