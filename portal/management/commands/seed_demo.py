"""`manage.py seed_demo`: a realistic marketplace with cases in every state, safe to run again.

Marketplace data goes through `import_document` (the same path as the real import), cases through
`cases.services`, so the demo shows exactly what the portal does. Times are relative to an anchor fixed
at the first run (kept in the first demo order), so a second run imports an identical document and
finds every scenario's case already there: it changes nothing.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Count
from django.test.utils import override_settings
from django.utils import timezone

from portal.errors import DomainError
from portal.importer import ImportError_, import_document
from portal.models import Order, OrderItem, Region, User

PASSWORD = "demo1234"
ANCHOR_ORDER = "DEMO-1001"
ANCHOR_OFFSET = timedelta(days=105)  # DEMO-1001 was paid 105 days before the anchor

# --- the marketplace ------------------------------------------------------------------------------

USERS: list[dict[str, Any]] = [
    {"username": "alice", "role": "consumer", "email": "alice@example.com"},
    {"username": "erin", "role": "consumer", "email": "erin@example.com"},
    {"username": "grace", "role": "consumer", "email": "grace@example.com"},
    {"username": "heidi", "role": "consumer", "email": "heidi@example.com"},  # lives in Ürümqi (remote)
    {"username": "ivan", "role": "consumer", "email": "ivan@example.com", "good_standing": False},
    {"username": "judy", "role": "consumer", "email": "judy@example.com"},  # refunds most orders (issue #18)
    {"username": "bob", "role": "merchant", "email": "bob@example.com", "shops": ["youyi", "shuma"]},
    {"username": "frank", "role": "merchant", "email": "frank@example.com", "shops": ["xianguo"]},
    {"username": "carol", "role": "staff", "email": "carol@example.com"},
    {"username": "dave", "role": "staff", "email": "dave@example.com", "supervisor": True},
    {"username": "admin", "role": "staff", "email": "admin@example.com", "supervisor": True},
]
# Region codes at county level (区/县, GB/T 2260); the line is the street only: pages show the region's names
# before it (浙江省 杭州市 桐庐县 桐君街道迎春南路 30 号).
ADDRESSES = {
    "alice": {"region": "310104", "line": "漕溪北路 88 号 1201 室", "contact": "李爱丽", "phone": "13800000001"},
    "erin": {"region": "330106", "line": "文三路 90 号", "contact": "王尔琳", "phone": "13800000002"},
    "grace": {"region": "440305", "line": "科技园南区 8 栋", "contact": "陈格蕾", "phone": "13800000003"},
    "heidi": {"region": "650102", "line": "解放北路 66 号", "contact": "海迪", "phone": "13800000004"},
    "ivan": {"region": "110105", "line": "建国路 1 号", "contact": "伊万", "phone": "13800000005"},
    "judy": {"region": "330122", "line": "桐君街道迎春南路 30 号", "contact": "朱迪", "phone": "13800000006"},
}
SHOPS = [
    {"code": "youyi", "name": "优衣服饰旗舰店", "return_address":
        {"region": "330106", "line": "文一西路 100 号 优衣仓", "contact": "优衣售后", "phone": "0571-88880001"}},
    {"code": "shuma", "name": "数码之家", "return_address":
        {"region": "440305", "line": "高新南一道 9 号 数码之家售后中心", "contact": "数码售后", "phone": "0755-86660002"}},
    {"code": "xianguo", "name": "鲜果园", "return_address":
        {"region": "360722", "line": "嘉定镇果园路 5 号 鲜果园仓", "contact": "鲜果园客服", "phone": "0797-3330003"}},
]
# sku, shop, name, category, no_reason_returns, warranty_days, weight_grams, size_cm
PRODUCTS: list[tuple[str, str, str, str, bool, int, int, list[int]]] = [
    ("YY-TEE-01", "youyi", "纯棉圆领 T 恤", "apparel", True, 0, 250, [30, 25, 3]),
    ("YY-SHIRT-01", "youyi", "免烫牛津纺衬衫", "apparel", True, 0, 350, [35, 28, 4]),
    ("YY-JEANS-01", "youyi", "修身弹力牛仔裤", "apparel", True, 0, 650, [40, 30, 5]),
    ("YY-DOWN-01", "youyi", "轻薄羽绒服", "apparel", True, 0, 900, [45, 35, 12]),
    ("YY-DRESS-01", "youyi", "碎花连衣裙", "apparel", True, 0, 400, [38, 28, 4]),
    ("YY-SNEAKER-01", "youyi", "透气运动鞋", "shoes", True, 0, 1100, [34, 22, 13]),
    ("YY-SCARF-01", "youyi", "羊毛围巾", "accessories", True, 0, 200, [25, 20, 5]),
    ("YY-UNDER-01", "youyi", "莫代尔内衣三件装", "underwear", False, 0, 300, [25, 18, 5]),
    ("YY-CUSTOM-01", "youyi", "定制刺绣卫衣", "custom_made", True, 0, 700, [40, 32, 8]),
    ("YY-CAP-01", "youyi", "棒球帽", "accessories", True, 0, 150, [28, 20, 12]),
    ("SM-PHONE-01", "shuma", "星耀 X5 智能手机 256G", "electronics", True, 365, 450, [20, 12, 8]),
    ("SM-LAPTOP-01", "shuma", "轻薄笔记本电脑 14 英寸", "electronics", True, 365, 2300, [45, 32, 9]),
    ("SM-EARBUDS-01", "shuma", "降噪蓝牙耳机", "electronics", True, 365, 200, [12, 10, 6]),
    ("SM-TABLET-01", "shuma", "11 英寸平板电脑", "electronics", True, 365, 800, [32, 24, 6]),
    ("SM-WATCH-01", "shuma", "运动智能手表", "electronics", True, 365, 150, [12, 10, 8]),
    ("SM-POWER-01", "shuma", "20000mAh 充电宝", "electronics", True, 365, 420, [18, 10, 4]),
    ("SM-MONITOR-01", "shuma", "27 英寸 4K 显示器", "electronics", True, 365, 7800, [70, 48, 20]),
    ("SM-TV-01", "shuma", "75 英寸液晶电视", "electronics", True, 730, 32000, [180, 110, 25]),
    ("SM-KEYBOARD-01", "shuma", "机械键盘", "electronics", True, 365, 1000, [48, 18, 6]),
    ("SM-MOUSE-01", "shuma", "无线鼠标", "electronics", True, 365, 120, [14, 9, 6]),
    ("SM-CARD-01", "shuma", "游戏点卡 100 元", "virtual", True, 0, 0, [0, 0, 0]),
    ("SM-VIP-01", "shuma", "视频会员年卡", "virtual", True, 0, 0, [0, 0, 0]),
    ("SM-MAG-01", "shuma", "《数码生活》杂志全年订阅", "periodical", True, 0, 300, [30, 22, 2]),
    ("SM-CABLE-01", "shuma", "Type-C 数据线（拆封不退）", "electronics", False, 180, 60, [15, 10, 2]),
    ("XG-GRAPE-01", "xianguo", "阳光玫瑰葡萄 2 斤", "fresh", True, 0, 1200, [30, 20, 12]),
    ("XG-ORANGE-01", "xianguo", "赣南脐橙 5 斤", "fresh", True, 0, 2700, [35, 25, 20]),
    ("XG-CHERRY-01", "xianguo", "智利车厘子 JJ 级 2 斤", "fresh", True, 0, 1300, [30, 20, 12]),
    ("XG-DURIAN-01", "xianguo", "金枕榴莲 1 个", "fresh", True, 0, 4000, [40, 30, 30]),
    ("XG-BASKET-01", "xianguo", "定制节日果篮", "custom_made", True, 0, 5000, [50, 40, 30]),
    ("XG-NUTS-01", "xianguo", "每日坚果礼盒", "snacks", True, 0, 900, [30, 20, 10]),
    ("XG-JUICE-01", "xianguo", "鲜榨果汁月卡（每周配送）", "periodical", True, 0, 0, [0, 0, 0]),
    ("XG-KNIFE-01", "xianguo", "不锈钢水果刀", "kitchen", True, 0, 150, [25, 8, 3]),
]

# Order ages: (paid, shipped, signed) before the anchor; None = not yet.
AGES: dict[str, tuple[timedelta, timedelta | None, timedelta | None]] = {
    "unshipped": (timedelta(hours=6), None, None),
    "shipped": (timedelta(days=3), timedelta(days=2), None),
    "signed2": (timedelta(days=5), timedelta(days=4), timedelta(days=2)),
    "signed10": (timedelta(days=14), timedelta(days=12), timedelta(days=10)),
    "signed100": (ANCHOR_OFFSET, timedelta(days=103), timedelta(days=100)),
}


@dataclass
class OrderSpec:
    number: str
    consumer: str
    shop: str
    age: str
    items: list[tuple[str, int, str, str]]  # sku, quantity, unit_price, paid
    extra: dict[str, Any] = field(default_factory=dict)


ORDERS: list[OrderSpec] = [
    OrderSpec("DEMO-1001", "alice", "shuma", "signed100", [("SM-PHONE-01", 1, "3999.00", "3899.00")],
              {"points_used": 500}),
    OrderSpec("DEMO-1002", "alice", "youyi", "signed2", [("YY-TEE-01", 2, "79.00", "148.00"),
                                                         ("YY-JEANS-01", 1, "299.00", "279.00")],
              {"return_shipping_insurance": True, "coupon": {"code": "YY-20", "value": "20.00",
                                                             "valid_until": "+30d"}}),
    OrderSpec("DEMO-1003", "alice", "youyi", "unshipped", [("YY-DOWN-01", 1, "599.00", "599.00")]),
    OrderSpec("DEMO-1004", "alice", "xianguo", "shipped", [("XG-GRAPE-01", 1, "89.00", "89.00")]),
    OrderSpec("DEMO-1005", "alice", "xianguo", "signed2", [("XG-CHERRY-01", 2, "128.00", "256.00")]),
    OrderSpec("DEMO-1006", "alice", "shuma", "signed2", [("SM-EARBUDS-01", 1, "899.00", "849.00")],
              {"points_used": 5000}),
    OrderSpec("DEMO-1007", "alice", "youyi", "signed10", [("YY-SHIRT-01", 1, "199.00", "199.00")]),
    OrderSpec("DEMO-1008", "alice", "shuma", "signed2", [("SM-CARD-01", 1, "100.00", "98.00"),
                                                         ("SM-MAG-01", 1, "240.00", "240.00")]),
    OrderSpec("DEMO-1009", "alice", "youyi", "signed2", [("YY-CUSTOM-01", 1, "259.00", "259.00"),
                                                         ("YY-UNDER-01", 1, "129.00", "129.00")]),
    OrderSpec("DEMO-2001", "erin", "youyi", "signed2", [("YY-DRESS-01", 1, "359.00", "339.00")],
              {"coupon": {"code": "NEW-20", "value": "20.00", "valid_until": "+60d"}}),
    OrderSpec("DEMO-2002", "erin", "shuma", "signed10", [("SM-WATCH-01", 1, "1299.00", "1299.00")]),
    OrderSpec("DEMO-2003", "erin", "youyi", "signed2", [("YY-SNEAKER-01", 1, "459.00", "459.00")],
              {"return_shipping_insurance": True}),
    OrderSpec("DEMO-2004", "erin", "shuma", "signed100", [("SM-LAPTOP-01", 1, "5999.00", "5799.00")]),
    OrderSpec("DEMO-2005", "erin", "xianguo", "signed2", [("XG-ORANGE-01", 1, "69.00", "69.00")]),
    OrderSpec("DEMO-3001", "grace", "youyi", "signed2", [("YY-SCARF-01", 2, "129.00", "258.00")]),
    OrderSpec("DEMO-3002", "grace", "shuma", "signed2", [("SM-TABLET-01", 1, "2499.00", "2399.00")],
              {"points_used": 1000}),
    OrderSpec("DEMO-3003", "grace", "shuma", "signed2", [("SM-POWER-01", 1, "159.00", "159.00")]),
    OrderSpec("DEMO-3004", "grace", "youyi", "signed2", [("YY-CAP-01", 1, "89.00", "89.00")]),
    OrderSpec("DEMO-3005", "grace", "shuma", "signed100", [("SM-MONITOR-01", 1, "2199.00", "2199.00")]),
    OrderSpec("DEMO-3006", "grace", "shuma", "signed2", [("SM-KEYBOARD-01", 1, "399.00", "399.00")]),
    # repaired over the next statutory holiday when one is near (holiday_scenario)
    OrderSpec("DEMO-3007", "grace", "shuma", "signed10", [("SM-EARBUDS-01", 1, "899.00", "899.00")]),
    OrderSpec("DEMO-4001", "heidi", "youyi", "signed2", [("YY-JEANS-01", 1, "299.00", "299.00")]),
    OrderSpec("DEMO-4002", "heidi", "shuma", "signed2", [("SM-MOUSE-01", 1, "149.00", "149.00")]),
    OrderSpec("DEMO-4003", "heidi", "xianguo", "signed2", [("XG-NUTS-01", 1, "168.00", "168.00")]),
    OrderSpec("DEMO-5001", "ivan", "youyi", "signed2", [("YY-TEE-01", 1, "79.00", "79.00")]),
    OrderSpec("DEMO-5002", "ivan", "shuma", "signed10", [("SM-TV-01", 1, "6999.00", "6999.00")],
              {"return_shipping_insurance": True}),
    OrderSpec("DEMO-5003", "ivan", "xianguo", "signed2", [("XG-DURIAN-01", 1, "299.00", "299.00")]),
    OrderSpec("DEMO-5004", "ivan", "shuma", "signed2", [("SM-CABLE-01", 3, "39.00", "117.00")]),
    OrderSpec("DEMO-5005", "ivan", "shuma", "signed2", [("SM-MOUSE-01", 1, "149.00", "149.00")]),
    # an outbound parcel the simulated courier holds (no digit at the end: interception stays pending)
    OrderSpec("DEMO-4004", "heidi", "xianguo", "shipped", [("XG-GRAPE-01", 1, "89.00", "89.00")],
              {"carrier": "simulated", "waybill": "SIM-DEMO-HOLD"}),
    # a television repaired at the buyer's home (docs/visits.md)
    OrderSpec("DEMO-3008", "grace", "shuma", "signed10", [("SM-TV-01", 1, "6999.00", "6999.00")]),
]
# products a technician repairs at the buyer's address (docs/visits.md)
ON_SITE_SERVICE = {"SM-TV-01"}


# Service-quality history (issue #18, docs/quality.md): 鲜果园 sells 120 more items in the scorecard's window,
# two of its disputes are ruled for the buyer (dispute rate > 1 %), and judy refunds 6 of her 10 orders.
ORDERS += [OrderSpec(f"DEMO-Q{n:02d}", "erin", "xianguo", "signed2", [("XG-ORANGE-01", 1, "59.00", "59.00")] * 10)
           for n in range(1, 13)]
ORDERS += [OrderSpec(f"DEMO-J{n:02d}", "judy", "youyi", "signed10", [("YY-TEE-01", 1, "79.00", "79.00")])
           for n in range(1, 11)]


def marketplace_document(anchor: datetime) -> dict[str, Any]:
    """The demo marketplace as an import document, with times relative to `anchor`."""

    def at(delta: timedelta | None) -> str | None:
        return (anchor - delta).isoformat() if delta is not None else None

    orders = []
    for spec in ORDERS:
        paid, shipped, signed = AGES[spec.age]
        order: dict[str, Any] = {
            "number": spec.number, "consumer": spec.consumer, "shop": spec.shop, "paid_at": at(paid),
            "address": ADDRESSES[spec.consumer],
            "items": [{"sku": sku, "quantity": qty, "unit_price": unit, "paid": paid_money}
                      for sku, qty, unit, paid_money in spec.items],
        }
        if shipped is not None:
            order["shipped_at"] = at(shipped)
        if signed is not None:
            order["signed_at"] = at(signed)
        for key, value in spec.extra.items():
            if key == "coupon":
                days = int(value["valid_until"].strip("+d"))
                value = {**value, "valid_until": (anchor + timedelta(days=days)).isoformat()}
            order[key] = value
        orders.append(order)
    return {
        "users": [{**u, "password": PASSWORD} for u in USERS],
        "shops": SHOPS,
        "products": [
            {"sku": sku, "shop": shop, "name": name, "category": category, "no_reason_returns": no_reason,
             "warranty_days": warranty, "weight_grams": grams, "size_cm": size,
             "image": f"{settings.STATIC_URL}img/products/{sku.lower()}.png",
             "on_site_service": sku in ON_SITE_SERVICE}
            for sku, shop, name, category, no_reason, warranty, grams, size in PRODUCTS
        ],
        "orders": orders,
    }


# --- cases in every state ---------------------------------------------------------------------------

def _photo(name: str = "evidence.jpg") -> SimpleUploadedFile:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (320, 240), (235, 235, 240))
    ImageDraw.Draw(image).rectangle((40, 40, 280, 200), outline=(200, 40, 40), width=6)
    buf = io.BytesIO()
    image.save(buf, "JPEG", quality=80)
    return SimpleUploadedFile(name, buf.getvalue(), content_type="image/jpeg")


@dataclass
class Scenario:
    """One case: where it is opened, how it is opened, and the actions that move it to its state."""

    label: str
    order: str
    position: int
    submit: dict[str, Any]
    steps: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)  # service, actor, fields
    opened_hours_ago: float = 20


RETURN = ("case_ship_return", "consumer", {"carrier": "顺丰速运", "tracking_number": "SF1400000001"})
RECEIVE: tuple[str, str, dict[str, str]] = ("case_confirm_receipt", "merchant", {})
APPROVE: tuple[str, str, dict[str, str]] = ("case_approve", "merchant", {})
FIRST_VISIT_SLOT = "first-open-visit-slot"  # a step's `slot`: the first open visit slot at the step's time
REJECT = ("case_reject", "merchant", {"reason": "商品吊牌已拆，影响二次销售"})

SCENARIOS: list[Scenario] = [
    Scenario("待商家处理（七天无理由退货）", "DEMO-1002", 1,
             {"kind": "return_refund", "reason": "no_reason", "quantity": 1, "condition_intact": True,
              "description": "尺码偏大，未穿过，吊牌完好"}, opened_hours_ago=3),
    Scenario("待商家处理（未发货仅退款）", "DEMO-1003", 1,
             {"kind": "refund_only", "reason": "not_shipped", "description": "等了很久还没发货，不想要了"},
             opened_hours_ago=2),
    Scenario("商家已拒绝", "DEMO-2001", 1,
             {"kind": "refund_only", "reason": "not_as_described", "amount": "100.00", "photo": True,
              "description": "颜色和图片差别很大"}, [REJECT], opened_hours_ago=30),
    Scenario("修改后重新提交", "DEMO-3004", 1,
             {"kind": "return_refund", "reason": "no_reason", "condition_intact": True},
             [REJECT, ("case_revise", "consumer", {"description": "吊牌在包装袋里，补充照片说明"})],
             opened_hours_ago=28),
    Scenario("待买家退货（新疆：不支持上门取件）", "DEMO-4001", 1,
             {"kind": "return_refund", "reason": "no_reason", "condition_intact": True,
              "description": "不合身"}, [APPROVE], opened_hours_ago=26),
    Scenario("待买家退货（可预约上门取件）", "DEMO-1002", 2,
             {"kind": "return_refund", "reason": "quality_issue", "photo": True, "description": "裤脚开线"},
             [APPROVE], opened_hours_ago=25),
    Scenario("退货运输中（极速退款）", "DEMO-3001", 1,
             {"kind": "return_refund", "reason": "no_reason", "quantity": 1, "condition_intact": True},
             [APPROVE, RETURN], opened_hours_ago=40),
    Scenario("退货运输中（信用不足，无极速退款）", "DEMO-5001", 1,
             {"kind": "return_refund", "reason": "no_reason", "condition_intact": True},
             [APPROVE, RETURN], opened_hours_ago=40),
    Scenario("待商家换货", "DEMO-2003", 1,
             {"kind": "exchange", "reason": "wrong_item", "photo": True, "description": "发来的是 42 码，我买的是 40 码"},
             [APPROVE, RETURN, RECEIVE], opened_hours_ago=44),
    Scenario("维修中（保修期内）", "DEMO-1001", 1,
             {"kind": "repair", "reason": "quality_issue", "photo": True, "description": "屏幕偶发闪烁"},
             [APPROVE, RETURN, RECEIVE], opened_hours_ago=47),
    Scenario("商品寄回中（换货已发出）", "DEMO-2002", 1,
             {"kind": "exchange", "reason": "quality_issue", "photo": True, "description": "表带断裂"},
             [APPROVE, RETURN, RECEIVE,
              ("case_ship_replacement", "merchant", {"carrier": "京东物流", "tracking_number": "JD0000000002"})],
             opened_hours_ago=46),
    Scenario("已完成（维修后寄回并确认）", "DEMO-2004", 1,
             {"kind": "repair", "reason": "quality_issue", "photo": True, "description": "键盘部分按键失灵"},
             [APPROVE, RETURN, RECEIVE,
              ("case_ship_repaired", "merchant", {"carrier": "顺丰速运", "tracking_number": "SF1400000003"}),
              ("case_confirm_completion", "consumer", {})], opened_hours_ago=47),
    Scenario("平台介入中（买家申请）", "DEMO-3002", 1,
             {"kind": "return_refund", "reason": "not_as_described", "photo": True,
              "description": "屏幕有亮点，与描述的全新不符"},
             [REJECT, ("case_escalate", "consumer", {"statement": "商家拒绝处理明显的质量问题，请平台介入"})],
             opened_hours_ago=36),
    Scenario("平台介入中（客服主动介入）", "DEMO-4002", 1,
             {"kind": "return_refund", "reason": "no_reason", "condition_intact": True},
             [("case_intervene", "carol", {"note": "买家多次来电，平台先行介入"})], opened_hours_ago=12),
    Scenario("待平台裁决", "DEMO-5002", 1,
             {"kind": "exchange", "reason": "quality_issue", "photo": True, "description": "屏幕出现竖线"},
             [REJECT, ("case_escalate", "consumer", {"statement": "电视屏幕有竖线，商家说是人为损坏"}),
              ("case_close_evidence", "carol", {})], opened_hours_ago=45),
    Scenario("退款成功（商家同意仅退款）", "DEMO-1005", 1,
             {"kind": "refund_only", "reason": "quality_issue", "amount": "60.00", "photo": True,
              "description": "部分车厘子坏果"}, [APPROVE], opened_hours_ago=30),
    Scenario("退款成功（平台裁决退款并补偿积分）", "DEMO-3003", 1,
             {"kind": "refund_only", "reason": "quality_issue", "photo": True, "description": "无法充电"},
             [REJECT, ("case_escalate", "consumer", {"statement": "充电宝无法充电"}),
              ("case_rule", "dave", {"decision": "refund", "amount": "159.00",
                                     "rationale": "买家照片可见充电指示灯不亮，商家未举证", "compensation_points": 200})],
             opened_hours_ago=42),
    Scenario("申诉处理中（商家对裁决提出申诉）", "DEMO-5005", 1,
             {"kind": "refund_only", "reason": "quality_issue", "photo": True, "description": "鼠标左键失灵"},
             [REJECT, ("case_escalate", "consumer", {"statement": "鼠标左键失灵，商家拒绝"}),
              ("case_rule", "carol", {"decision": "refund", "amount": "149.00", "rationale": "买家视频可见按键失灵"}),
              ("case_appeal", "merchant", {"statement": "买家视频中的鼠标序列号与我店发货记录不符"})],
             opened_hours_ago=40),
    Scenario("拦截中（未收到货，包裹拦截）", "DEMO-4004", 1,
             {"kind": "refund_only", "reason": "not_received", "amount": "89.00", "description": "物流停滞，不想要了"},
             [("case_intercept", "consumer", {})], opened_hours_ago=5),
    Scenario("待上门维修（技师上门）", "DEMO-3008", 1,
             {"kind": "repair", "reason": "quality_issue", "photo": True, "description": "开机后无画面，有声音"},
             [APPROVE, ("case_book_visit", "consumer", {"slot": FIRST_VISIT_SLOT})], opened_hours_ago=3),
    Scenario("已关闭（买家撤销）", "DEMO-1007", 1,
             {"kind": "return_refund", "reason": "other", "description": "买重了"},
             [("case_withdraw", "consumer", {})], opened_hours_ago=20),
    Scenario("已关闭（超时关闭）", "DEMO-4003", 1,
             {"kind": "refund_only", "reason": "other", "amount": "50.00", "description": "口感一般"},
             [REJECT, ("case_expire", "system", {})], opened_hours_ago=44),
    Scenario("已关闭（平台判定商家胜诉）", "DEMO-5003", 1,
             {"kind": "refund_only", "reason": "quality_issue", "photo": True, "description": "榴莲不新鲜"},
             [REJECT, ("case_escalate", "consumer", {"statement": "要求全额退款"}),
              ("case_rule", "dave", {"decision": "reject",
                                     "rationale": "签收时买家未提出异议，照片不能证明坏果", "compensation_points": 0})],
             opened_hours_ago=43),
]


SCENARIOS += [
    Scenario(f"退款成功（鲜果园纠纷，裁决退款 {n}）", f"DEMO-Q{n:02d}", 1,
             {"kind": "refund_only", "reason": "quality_issue", "amount": "59.00", "photo": True,
              "description": "橙子大面积霉变"},
             [REJECT, ("case_escalate", "consumer", {"statement": "商家拒绝处理霉变水果"}),
              ("case_rule", "dave", {"decision": "refund", "amount": "59.00", "rationale": "照片可见霉变，商家未举证"})],
             opened_hours_ago=40 - n)
    for n in (1, 2)
] + [
    Scenario(f"退款成功（高频退款买家 {n}）", f"DEMO-J{n:02d}", 1,
             {"kind": "refund_only", "reason": "other", "amount": "79.00", "description": "不想要了"},
             [APPROVE], opened_hours_ago=200 - 10 * n)
    for n in range(1, 7)
]
# (order, stars, tags, comment) of the ratings the demo buyers gave
RATINGS = [
    ("DEMO-Q01", 1, ["slow_response", "unhelpful"], "商家拒绝处理，最后靠平台才退款"),
    ("DEMO-Q02", 2, ["slow_response"], ""),
    ("DEMO-1005", 5, ["fast_response", "polite"], "处理很快，态度很好"),
    ("DEMO-J01", 4, ["fast_response"], ""),
]


def seed_quality(anchor: datetime) -> None:
    """Ratings on the demo's finished cases, then the consequences' evaluation (docs/quality.md)."""
    from cases.models import AfterSalesCase
    from cases.quality.consequences import quality_evaluate
    from cases.quality.models import CaseRating
    from cases.quality.ratings import rating_submit

    for number, stars, tags, comment in RATINGS:
        case = AfterSalesCase.objects.filter(order_item__order__number=number).order_by("pk").first()
        if case is None or not case.is_terminal or CaseRating.objects.filter(case=case).exists():
            continue
        rating_submit(case_id=case.pk, consumer=case.consumer, stars=stars, tags=tags, comment=comment,
                      now=max(anchor, case.closed_at or anchor))
    quality_evaluate()


HOLIDAY_SCENARIO = Scenario(
    "维修中（维修时限因节假日顺延）", "DEMO-3007", 1,
    {"kind": "repair", "reason": "quality_issue", "photo": True, "description": "右耳无声"},
    [APPROVE, RETURN, RECEIVE], opened_hours_ago=2)
HOLIDAY_CLOCK = "merchant_repair"  # the longest clock (15 days), started by HOLIDAY_SCENARIO's last step


def holiday_scenario(anchor: datetime) -> tuple[Scenario | None, str]:
    """The demo case whose running clock pauses over a real holiday, when the calendar has one near enough:
    the merchant's repair clock, started just before the anchor, runs into the next holiday of the calendar
    (or one in progress). Otherwise None, and the sentence the seed prints instead."""
    from cases import policy
    from cases.models import Holiday

    seconds = policy.deadline_seconds(HOLIDAY_CLOCK, kind="repair", reason="quality_issue", at=anchor)
    started = anchor - timedelta(hours=HOLIDAY_SCENARIO.opened_hours_ago) + timedelta(
        minutes=37 * len(HOLIDAY_SCENARIO.steps))
    upcoming = list(Holiday.objects.filter(end_date__gte=policy.local_date(started)).order_by("start_date")[:1])
    if not upcoming:
        return None, "No demo clock crosses a holiday: the holiday calendar has none after today."
    holiday = upcoming[0]
    (begins, _ends), = policy.holiday_intervals([holiday])
    if begins - started < timedelta(seconds=seconds):
        return HOLIDAY_SCENARIO, (f"Holiday clock: {HOLIDAY_SCENARIO.order}'s repair clock pauses over "
                                  f"{holiday.name} {holiday.start_date:%Y-%m-%d}–{holiday.end_date:%Y-%m-%d}.")
    days = (policy.local_date(begins) - policy.local_date(started)).days
    return None, (f"No demo clock crosses a holiday: the next one, {holiday.name} {holiday.start_date:%Y-%m-%d}, "
                  f"starts in {days} days, beyond the longest clock ({HOLIDAY_CLOCK}, "
                  f"{seconds / 86400:g} days); the seed adds that case when run within it.")


def run_scenario(scenario: Scenario, users: dict[str, User], anchor: datetime) -> Any:
    """Open the scenario's case (unless its item already has one) and take its steps, a few minutes apart."""
    from cases import services
    from cases.models import AfterSalesCase

    item = OrderItem.objects.select_related("order__consumer").get(order__number=scenario.order,
                                                                    position=scenario.position)
    existing = AfterSalesCase.objects.filter(order_item=item).order_by("created_at").first()
    if existing is not None:
        return existing
    at = anchor - timedelta(hours=scenario.opened_hours_ago)
    fields = dict(scenario.submit)
    photos = [_photo()] if fields.pop("photo", False) else []
    case = services.case_submit(consumer=item.order.consumer, order_item_id=item.pk, evidence_files=photos,
                                now=at, **fields)
    merchant = users["frank"] if item.order.shop.code == "xianguo" else users["bob"]
    for service_name, who, step_fields in scenario.steps:
        at += timedelta(minutes=37)
        service = getattr(services, service_name)
        if who == "system":
            case = service(case_id=case.pk, now=at, **step_fields)
            continue
        if step_fields.get("slot") == FIRST_VISIT_SLOT:
            from pickups.visits import visit_assess

            slots = visit_assess(case=AfterSalesCase.objects.get(pk=case.pk), now=at).slots
            if not slots:
                break
            step_fields = {**step_fields, "slot": slots[0].pk}
        actor = {"consumer": item.order.consumer, "merchant": merchant}.get(who) or users[who]
        case = service(case_id=case.pk, actor=actor, now=at, **step_fields)
    return case


class Command(BaseCommand):
    help = "Create (or complete) the demo marketplace and cases in every lifecycle state. Safe to run again."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--send-emails", action="store_true",
                            help="send the notification emails the demo cases trigger (default: suppressed)")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["send_emails"]:
            self._seed()
        else:
            with override_settings(EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend"):
                self._seed()
        self._print_logins()

    def _holidays(self, anchor: Any) -> None:
        """The statutory holidays of this year and next into the (otherwise empty) platform calendar, as an
        operator's `sync_holidays` would; a year the package has no State Council schedule for is loaded by
        rule and said so (docs/reference-data.md)."""
        from portal.refdata.holidays import holidays_sync

        year = timezone.localtime(anchor).year
        for y in (year, year + 1):
            plan = holidays_sync(year=y, allow_estimated=True)
            note = "" if plan.official else " (estimated: no State Council schedule in the package yet)"
            self.stdout.write(f"Holidays {y}: {len(plan.add)} added, {len(plan.unchanged)} unchanged{note}.")

    def _seed(self) -> None:
        from cases.models import AfterSalesCase

        if not Region.objects.filter(code="650000").exists():
            raise CommandError("regions are missing: run `python manage.py migrate` first")
        anchor_order = Order.objects.filter(number=ANCHOR_ORDER).only("paid_at").first()
        if anchor_order is not None:
            anchor = anchor_order.paid_at + ANCHOR_OFFSET
        else:
            anchor = timezone.localtime().replace(minute=0, second=0, microsecond=0)
        self._holidays(anchor)
        try:
            counts = import_document(marketplace_document(anchor), operator=True)
        except ImportError_ as exc:  # pragma: no cover - the demo document is fixed
            raise CommandError(f"demo document rejected at {exc.path}: {exc.detail}") from exc
        User.objects.filter(username="admin", is_superuser=False).update(is_superuser=True, is_staff=True)
        users = {u.username: u for u in User.objects.filter(username__in=[u["username"] for u in USERS])}
        before = AfterSalesCase.objects.count()
        for scenario in SCENARIOS:
            try:
                run_scenario(scenario, users, anchor)
            except DomainError as exc:
                raise CommandError(f"scenario {scenario.label!r} failed: {exc.code} {exc.detail}") from exc
        # the holiday case keeps the real clock even when the demo runs every other clock in seconds
        with override_settings(CASE_DEADLINES_SECONDS={}):
            holiday, sentence = holiday_scenario(anchor)
            if holiday is not None:
                try:
                    run_scenario(holiday, users, anchor)
                except DomainError as exc:
                    raise CommandError(f"scenario {holiday.label!r} failed: {exc.code} {exc.detail}") from exc
        self.stdout.write(sentence)
        seed_quality(anchor)
        created = AfterSalesCase.objects.count() - before
        self.stdout.write(
            f"Marketplace: {counts['created']['orders']} orders created, {counts['updated']['orders']} updated; "
            f"{created} cases created ({len(SCENARIOS)} scenarios)."
        )
        states = dict(
            AfterSalesCase.objects.filter(order_item__order__number__startswith="DEMO-")
            .values_list("state").annotate(n=Count("id")).order_by()
        )
        self.stdout.write("Cases by state: " + ", ".join(f"{s} {n}" for s, n in sorted(states.items())))

    def _print_logins(self) -> None:
        rows = [
            ("admin", "超级管理员 superuser", "/admin/"),
            ("carol", "平台客服 agent", "/"),
            ("dave", "平台主管 supervisor", "/"),
            ("bob", "商家 优衣服饰旗舰店 + 数码之家", "/merchant/"),
            ("frank", "商家 鲜果园", "/merchant/"),
            ("alice", "买家 (上海)", "/"),
            ("erin", "买家 (杭州)", "/"),
            ("grace", "买家 (深圳)", "/"),
            ("heidi", "买家 (乌鲁木齐, 偏远地区)", "/"),
            ("ivan", "买家 (信用不良 good_standing=false)", "/"),
            ("judy", "买家 (桐庐县; 高频退款，已提示客服)", "/"),
        ]
        self.stdout.write("")
        self.stdout.write(f"Demo logins (password for all: {PASSWORD})")
        self.stdout.write(f"{'username':<10} {'start at':<11} role")
        self.stdout.write(f"{'-' * 10} {'-' * 11} {'-' * 36}")
        for username, role, start in rows:
            self.stdout.write(f"{username:<10} {start:<11} {role}")
