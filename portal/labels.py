"""Readable names for codes a person reads: regions ("上海市 徐汇区" rather than 310104), product categories,
wallet entries' reasons."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

# The import format's category codes (api.md): shown by name wherever a person reads them.
CATEGORY_LABELS = {
    "apparel": _("服装"), "underwear": _("内衣"), "shoes": _("鞋靴"), "electronics": _("数码电器"),
    "phones": _("手机"), "appliances": _("家用电器"), "food": _("食品"), "fresh": _("生鲜"),
    "beauty": _("美妆个护"), "books": _("图书"), "toys": _("玩具"), "furniture": _("家具"),
    "jewelry": _("珠宝首饰"), "custom_made": _("定制商品"), "virtual": _("虚拟商品"),
    "periodical": _("报刊订阅"), "general": _("日用百货"), "home": _("家居"), "sports": _("运动户外"),
    "baby": _("母婴"), "health": _("医药保健"), "pets": _("宠物用品"), "accessories": _("配饰"),
    "kitchen": _("厨具"), "snacks": _("零食"),
}


def category_label(code: str) -> str:
    return str(CATEGORY_LABELS.get(code, code))


def region_label(code: str) -> str:
    """`上海市 徐汇区` for 310104: the one definition, `Region.label_for` (groupings like 市辖区 left out)."""
    from portal.models import Region

    return Region.label_for(code or "")


# What the money code stores as a wallet entry's reason (Chinese, with the case or order number): read in the
# reader's language by the prefix (cases/refunds.py, cases/services/arbitration.py and appeals.py write them).
WALLET_REASONS = {
    "平台裁决补偿": _("平台裁决补偿 %(number)s"),
    "申诉复核补偿": _("申诉复核补偿 %(number)s"),
    "退款返还积分": _("退款返还积分 %(number)s"),
    "整单退款返还优惠券": _("整单退款返还优惠券 %(number)s"),
}


def wallet_reason_label(reason: str) -> str:
    """`Ruling compensation AS…` for `平台裁决补偿 AS…` in English; an unknown reason as it was written."""
    prefix, _space, number = (reason or "").partition(" ")
    label = WALLET_REASONS.get(prefix)
    return str(label) % {"number": number} if label is not None and number else reason
