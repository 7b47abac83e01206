"""A small world with one object of every kind, for the access-control matrix."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile

from tests import factories as f


@dataclass
class World:
    users: dict[str, Any]
    ids: dict[str, Any]


def build_world() -> World:
    from cases import services
    from cases.models import CaseEvidence

    consumer = f.ConsumerFactory(username="m-owner")
    other_consumer = f.ConsumerFactory(username="m-other")
    merchant = f.MerchantFactory(username="m-merchant")
    other_merchant = f.MerchantFactory(username="m-merchant-b")
    shop = f.ShopFactory(code="m-shop", members=[merchant])
    f.ShopFactory(code="m-shop-b", members=[other_merchant])
    agent = f.make_staff("m-agent")
    supervisor = f.make_staff("m-super", supervisor=True)
    item = f.OrderItemFactory(order=f.OrderFactory(consumer=consumer, shop=shop))
    case = services.case_submit(consumer=consumer, order_item_id=item.pk, kind="return_refund",
                                reason="quality_issue", quantity=1,
                                evidence_files=[SimpleUploadedFile("p.jpg", f.jpeg_bytes())])
    evidence = CaseEvidence.objects.get(case=case)
    from cases.assistant.services import handoff_open

    thread = handoff_open(user=consumer, item=item, message="转人工")
    ids: dict[str, Any] = {"case_id": case.pk, "item_id": item.pk, "evidence_id": evidence.pk,
                           "action": "reject", "courier": "simulated", "waybill": "NOPE", "reference": "NOPE", "token": "x", "key": "y",
                           "pickup_id": 999999, "code": "m-shop", "template_id": 999999, "reason_id": 999999, "job_id": 999999,
           "thread_id": thread.pk}
    users = {"anonymous": None, "consumer": consumer, "other_consumer": other_consumer, "merchant": merchant,
             "other_merchant": other_merchant, "agent": agent, "supervisor": supervisor}
    return World(users=users, ids=ids)
