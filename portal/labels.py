"""Readable names for codes a person reads: regions ("上海市 徐汇区" rather than 310104), product categories."""

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
