"""Run in a subprocess against the throwaway primary of tests/ops/test_replica.py: a shop with two members,
a consumer with one case waiting for the merchant, and a Bearer token each. Prints them as JSON."""

from __future__ import annotations

import json

import django


def main() -> None:
    django.setup()
    from cases import services
    from portal.models import ApiToken
    from tests import factories as f
    from tests.conftest import ensure_reference_data

    ensure_reference_data()
    consumer = f.ConsumerFactory(username="replica-alice", good_standing=False)
    merchant = f.MerchantFactory(username="replica-bob")
    colleague = f.MerchantFactory(username="replica-eve")
    shop = f.ShopFactory(code="replica-shop", members=[merchant, colleague])
    item = f.OrderItemFactory(order=f.OrderFactory(consumer=consumer, shop=shop))
    case = services.case_submit(consumer=consumer, order_item_id=item.pk, kind="refund_only", reason="other",
                                quantity=1, amount="20.00")
    print(json.dumps({"case": case.pk, "shop": shop.code, "state": case.state,
                      "merchant": ApiToken.issue(merchant), "colleague": ApiToken.issue(colleague),
                      "consumer": ApiToken.issue(consumer)}))


if __name__ == "__main__":
    main()
