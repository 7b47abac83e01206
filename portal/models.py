"""The marketplace context the portal receives from the shop system: users, shops, products, orders."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Collection, Iterable
from decimal import Decimal
from typing import Any, Self

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords

from . import sqlcache


class Role(models.TextChoices):
    CONSUMER = "consumer", _("消费者")
    MERCHANT = "merchant", _("商家")
    STAFF = "staff", _("平台客服")


EXCLUDED_NO_REASON_CATEGORIES = frozenset({"custom_made", "fresh", "virtual", "periodical"})


class User(AbstractUser):
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.CONSUMER, verbose_name=_("角色"))
    good_standing = models.BooleanField(default=True, verbose_name=_("信用良好"))
    phone = models.CharField(max_length=32, blank=True, verbose_name=_("手机号"))
    # Who changed a trust flag (good_standing, role, staff, active) from what to what; never a password hash.
    history = HistoricalRecords(excluded_fields=["password", "last_login"])

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = pgettext_lazy("plural", "用户")
        db_table = "portal_user"

    def __str__(self) -> str:
        return self.username

    def save(self, *args: Any, **kwargs: Any) -> None:
        """A login stamp or a password change alone is not a change worth a history row."""
        fields = kwargs.get("update_fields")
        if fields is not None and set(fields) <= {"last_login", "password"}:
            self.skip_history_when_saving = True
            try:
                super().save(*args, **kwargs)
            finally:
                del self.skip_history_when_saving
            return
        super().save(*args, **kwargs)

    @property
    def is_consumer(self) -> bool:
        return self.role == Role.CONSUMER

    @property
    def is_merchant(self) -> bool:
        return self.role == Role.MERCHANT

    @property
    def is_platform_staff(self) -> bool:
        return self.is_active and self.is_staff and (self.is_superuser or self._in_group("agents", "supervisors"))

    @property
    def is_supervisor(self) -> bool:
        return self.is_active and self.is_staff and (self.is_superuser or self._in_group("supervisors"))

    def _in_group(self, *names: str) -> bool:
        cache = getattr(self, "_group_names_cache", None)
        if cache is None:
            cache = set(self.groups.values_list("name", flat=True))
            self._group_names_cache = cache
        return bool(cache.intersection(names))


GROUPING_NAMES = frozenset({"市辖区", "县", "直辖县", "省直辖县级行政区划", "自治区直辖县级行政区划"})


class Region(models.Model):
    """A Chinese administrative division: province, prefecture-level city or district."""

    class Level(models.IntegerChoices):
        PROVINCE = 1, _("省")
        CITY = 2, _("市")
        DISTRICT = 3, _("区县")

    code = models.CharField(max_length=6, primary_key=True, verbose_name=_("地区编码"))
    name = models.CharField(max_length=64, verbose_name=_("名称"))
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.CASCADE, related_name="children", verbose_name=_("上级地区"))
    level = models.PositiveSmallIntegerField(choices=Level.choices, verbose_name=_("级别"))
    covered = models.BooleanField(default=True, help_text=_("在上门取件服务范围内"), verbose_name=_("上门取件覆盖"))
    remote = models.BooleanField(default=False, help_text=_("偏远地区"), verbose_name=_("偏远地区"))
    # Reference data (docs/reference-data.md): a code the official list no longer has stays for the orders
    # that carry it, marked retired, with the division that took it over when the source says which.
    retired = models.BooleanField(default=False, help_text=_("已撤销的区划代码（仍可解析历史订单地址）"), verbose_name=_("已撤销"))
    successor = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                                  help_text=_("承接该区划的现行区划"), verbose_name=_("承接区划"))

    class Meta:
        verbose_name = _("地区")
        verbose_name_plural = pgettext_lazy("plural", "地区")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    @property
    def is_grouping(self) -> bool:
        """A statistical grouping in the code list (市辖区, 省直辖县级行政区划), not a place of its own."""
        return self.level == self.Level.CITY and self.name in GROUPING_NAMES

    def label(self) -> str:
        """The address as people write it: province city district, groupings left out (北京市 朝阳区)."""
        return " ".join(r.name for r in reversed(self.lineage()) if not r.is_grouping)

    @classmethod
    def label_for(cls, code: str) -> str:
        """Names for a stored code; the code itself only when nothing in the list answers for it."""
        region = cls.resolve(code)
        return region.label() if region is not None else (code or "")

    @classmethod
    def resolve(cls, code: str) -> Region | None:
        """The most specific known region for a 6-digit code: district, then city, then province."""
        code = (code or "").strip()
        if len(code) != 6 or not code.isdigit():
            return None
        candidates = [code, code[:4] + "00", code[:2] + "0000"]
        # compiled once per process (portal.sqlcache): a region label is on every case page
        found = {r.code: r for r in sqlcache.objects(
            "region_resolve", lambda codes: cls.objects.filter(code__in=codes).select_related("parent__parent"),
            codes=candidates)}
        for candidate in candidates:
            if candidate in found:
                return found[candidate]
        return None

    def lineage(self) -> list[Region]:
        chain: list[Region] = []
        node: Region | None = self
        while node is not None:
            chain.append(node)
            node = node.parent
        return chain

    @property
    def is_remote(self) -> bool:
        return any(r.remote for r in self.lineage())

    @property
    def is_covered(self) -> bool:
        return all(r.covered for r in self.lineage())

    @property
    def province_code(self) -> str:
        return self.code[:2] + "0000"

    @property
    def city_code(self) -> str:
        return self.code[:4] + "00" if self.level >= 2 else self.code


class Shop(models.Model):
    code = models.SlugField(max_length=64, unique=True, verbose_name=_("店铺编码"))
    name = models.CharField(max_length=200, verbose_name=_("店铺名称"))
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="shops", blank=True, verbose_name=_("成员"))
    return_region = models.CharField(max_length=6, blank=True, verbose_name=_("退货地区"))
    return_line = models.CharField(max_length=255, blank=True, verbose_name=_("退货地址"))
    return_contact = models.CharField(max_length=100, blank=True, verbose_name=_("退货联系人"))
    return_phone = models.CharField(max_length=32, blank=True, verbose_name=_("退货电话"))
    # the shop system's endpoint for the portal's notices (docs/shop-notices.md: "don't ship"); empty: none sent
    notify_url = models.URLField(max_length=500, blank=True, verbose_name=_("店铺通知地址"),
                                 help_text=_("售后通知（如“停止发货”）以签名 POST 发送到此地址；留空则不发送"))
    notify_secret = models.CharField(max_length=128, blank=True, verbose_name=_("通知签名密钥"),
                                     help_text=_("HMAC-SHA256 签名密钥，与店铺系统共享"))

    class Meta:
        verbose_name = _("店铺")
        verbose_name_plural = pgettext_lazy("plural", "店铺")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class Product(models.Model):
    sku = models.CharField(max_length=64, unique=True, verbose_name=_("商品编码"))
    shop = models.ForeignKey(Shop, on_delete=models.PROTECT, related_name="products", verbose_name=_("店铺"))
    name = models.CharField(max_length=255, verbose_name=_("商品名称"))
    category = models.CharField(max_length=64, default="general", verbose_name=_("类目"))
    no_reason_returns = models.BooleanField(default=True, verbose_name=_("支持七天无理由"))
    warranty_days = models.PositiveIntegerField(default=0, verbose_name=_("保修天数"))
    weight_grams = models.PositiveIntegerField(default=0, verbose_name=_("重量（克）"))
    length_cm = models.PositiveIntegerField(default=0, verbose_name=_("长（厘米）"))
    width_cm = models.PositiveIntegerField(default=0, verbose_name=_("宽（厘米）"))
    height_cm = models.PositiveIntegerField(default=0, verbose_name=_("高（厘米）"))
    image = models.CharField(max_length=500, blank=True, verbose_name=_("商品图片"),
                             help_text=_("图片地址（http(s):// 或本站 / 开头的路径）"))
    # a repair may be a technician's visit (上门维修)
    on_site_service = models.BooleanField(default=False, verbose_name=_("支持上门维修"))

    class Meta:
        verbose_name = _("商品")
        verbose_name_plural = pgettext_lazy("plural", "商品")

    def __str__(self) -> str:
        return f"{self.name} ({self.sku})"

    @property
    def longest_side_cm(self) -> int:
        return max(self.length_cm, self.width_cm, self.height_cm)

    @property
    def no_reason_excluded(self) -> bool:
        return self.category in EXCLUDED_NO_REASON_CATEGORIES or not self.no_reason_returns


# The order's columns its items carry a copy of (OrderItem.shop, OrderItem.paid_at).
ITEM_COPIED_FIELDS = frozenset({"shop", "shop_id", "paid_at"})


class OrderQuerySet(models.QuerySet):
    """An UPDATE or bulk_update of the orders' shop or payment time copies them onto their items too."""

    def update(self, **kwargs: Any) -> int:
        if not ITEM_COPIED_FIELDS & set(kwargs):
            return super().update(**kwargs)
        ids = list(self.values_list("pk", flat=True))
        n = super().update(**kwargs)
        order_items_sync(ids)
        return n

    def bulk_update(self, objs: Any, fields: Any, batch_size: int | None = None) -> int:
        objs, fields = list(objs), list(fields)
        n = super().bulk_update(objs, fields, batch_size=batch_size)
        if ITEM_COPIED_FIELDS & set(fields):
            order_items_sync([o.pk for o in objs])
            for o in objs:
                o._items_copy = (o.shop_id, o.paid_at)
        return n


class Order(models.Model):
    number = models.CharField(max_length=64, unique=True, verbose_name=_("订单号"))
    consumer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="orders", verbose_name=_("买家"))
    shop = models.ForeignKey(Shop, on_delete=models.PROTECT, related_name="orders", verbose_name=_("店铺"))
    paid_at = models.DateTimeField(verbose_name=_("付款时间"))
    shipped_at = models.DateTimeField(null=True, blank=True, verbose_name=_("发货时间"))
    signed_at = models.DateTimeField(null=True, blank=True, verbose_name=_("签收时间"))
    shipping_fee = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0.00"), verbose_name=_("运费"))
    points_used = models.PositiveIntegerField(default=0, verbose_name=_("使用积分"))
    return_shipping_insurance = models.BooleanField(default=False, verbose_name=_("退货运费险"))
    coupon_code = models.CharField(max_length=64, blank=True, verbose_name=_("优惠券码"))
    coupon_value = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True, verbose_name=_("优惠券面额"))
    coupon_valid_until = models.DateTimeField(null=True, blank=True, verbose_name=_("优惠券有效期至"))
    address_region = models.CharField(max_length=6, verbose_name=_("收货地区"))
    address_line = models.CharField(max_length=255, blank=True, verbose_name=_("收货地址"))
    address_contact = models.CharField(max_length=100, blank=True, verbose_name=_("收货人"))
    address_phone = models.CharField(max_length=32, blank=True, verbose_name=_("收货电话"))
    # the outbound parcel: the courier's code and waybill (an order with both may be intercepted)
    carrier = models.CharField(max_length=64, blank=True, verbose_name=_("发货快递公司"))
    waybill = models.CharField(max_length=64, blank=True, verbose_name=_("发货运单号"))

    objects = OrderQuerySet.as_manager()
    # (shop_id, paid_at) as last read or written: a save that changes them copies them onto the items
    _items_copy: tuple[Any, Any] | None = None

    class Meta:
        verbose_name = _("订单")
        verbose_name_plural = pgettext_lazy("plural", "订单")
        indexes = [models.Index(fields=["consumer", "-paid_at"]),
                   # the shop's orders paid in a window (the merchant metrics; the scorecard counts the items by
                   # their own copy of shop and paid_at: OrderItem, orderitem_shop_paid)
                   models.Index(fields=["shop", "paid_at"], include=["id"], name="order_shop_paid")]

    def __str__(self) -> str:
        return self.number

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Saving a changed shop or payment time copies it onto the order's items (OrderItem.shop/paid_at)."""
        adding = self._state.adding
        fields = kwargs.get("update_fields")
        super().save(*args, **kwargs)
        written = fields is None or bool(ITEM_COPIED_FIELDS & set(fields))
        if not adding and written and self._items_copy != (self.shop_id, self.paid_at):
            order_items_sync([self.pk])
        if written:
            self._items_copy = (self.shop_id, self.paid_at)

    @classmethod
    def from_db(cls, db: str | None, field_names: Collection[str], values: Collection[Any], **kwargs: Any) -> Self:
        obj = super().from_db(db, field_names, values, **kwargs)
        obj._items_copy = (obj.__dict__.get("shop_id"), obj.__dict__.get("paid_at"))
        return obj

    @property
    def total_paid(self) -> Decimal:
        return sum((item.paid for item in self.items.all()), Decimal("0.00"))


def order_items_fill(items: list[OrderItem]) -> None:
    """Give each new item its order's shop and payment time: from the order already loaded on the item, else
    one query for all the rest."""
    missing: dict[int, list[OrderItem]] = {}
    for item in items:
        order = item._state.fields_cache.get("order")
        if order is not None:
            item.shop_id, item.paid_at = order.shop_id, order.paid_at
        elif item.order_id is not None:
            missing.setdefault(item.order_id, []).append(item)
    if missing:
        for pk, shop_id, paid_at in Order.objects.filter(pk__in=list(missing)).values_list("pk", "shop_id", "paid_at"):
            for item in missing[pk]:
                item.shop_id, item.paid_at = shop_id, paid_at


def order_items_sync(order_ids: list[int]) -> int:
    """Copy the orders' shop and payment time onto their items again (after an order's change), in the database:
    one UPDATE, whatever the instances in memory say."""
    if not order_ids:
        return 0
    order = Order.objects.filter(pk=models.OuterRef("order_id"))
    return OrderItem.objects.filter(order_id__in=order_ids).update(
        shop_id=models.Subquery(order.values("shop_id")[:1]), paid_at=models.Subquery(order.values("paid_at")[:1]))


class OrderItemQuerySet(models.QuerySet):
    def bulk_create(self, objs: Iterable[Any], batch_size: int | None = None, ignore_conflicts: bool = False,
                    update_conflicts: bool = False, update_fields: Collection[str] | None = None,
                    unique_fields: Collection[str] | None = None) -> list[Any]:
        items = list(objs)
        order_items_fill(items)
        return super().bulk_create(items, batch_size=batch_size, ignore_conflicts=ignore_conflicts,
                                   update_conflicts=update_conflicts, update_fields=update_fields,
                                   unique_fields=unique_fields)


class OrderItem(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="items", verbose_name=_("订单"))
    position = models.PositiveIntegerField(verbose_name=_("序号"))
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="order_items", verbose_name=_("商品"))
    quantity = models.PositiveIntegerField(verbose_name=_("数量"))
    unit_price = models.DecimalField(max_digits=12, decimal_places=2, verbose_name=_("单价"))
    paid = models.DecimalField(max_digits=12, decimal_places=2, verbose_name=_("实付金额"))
    # Copies of the order's shop and payment time, never set by hand: the shop's items paid in a window are a
    # range of one index (cases/scorecard.py, docs/quality.md "Speed"). Filled from the order when the item is
    # written first (save, bulk_create); the order's own writes copy a change (Order.save, OrderQuerySet);
    # an item's later saves leave them alone.
    shop = models.ForeignKey(Shop, on_delete=models.PROTECT, related_name="+", editable=False, db_index=False,
                             verbose_name=_("店铺"))
    paid_at = models.DateTimeField(editable=False, verbose_name=_("付款时间"))

    objects = OrderItemQuerySet.as_manager()

    COPIED_FROM_ORDER = ("shop", "paid_at")

    class Meta:
        verbose_name = _("订单商品")
        verbose_name_plural = pgettext_lazy("plural", "订单商品")
        ordering = ["order_id", "position"]
        constraints = [models.UniqueConstraint(fields=["order", "position"], name="orderitem_unique_position")]
        # the shop's items paid in a window: one range, counted from the index alone (cases/scorecard.py)
        indexes = [models.Index(fields=["shop", "paid_at"], name="orderitem_shop_paid")]

    def __str__(self) -> str:
        return f"{self.order.number}#{self.position} {self.product.sku}×{self.quantity}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self._state.adding:
            order_items_fill([self])
        elif kwargs.get("update_fields") is None and not kwargs.get("force_insert"):
            # the copies belong to the order: an item saved from a stale instance must not write them back
            kwargs["update_fields"] = [f.name for f in self._meta.concrete_fields
                                       if not f.primary_key and f.name not in self.COPIED_FROM_ORDER]
        super().save(*args, **kwargs)


class Wallet(models.Model):
    """A consumer's points balance and returned coupons (refunds restore them)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="wallet", verbose_name=_("用户"))
    points = models.IntegerField(default=0, verbose_name=_("积分"))

    class Meta:
        verbose_name = _("钱包")
        verbose_name_plural = pgettext_lazy("plural", "钱包")

    def __str__(self) -> str:
        return f"{self.user} · {self.points}"


class WalletEntry(models.Model):
    """A ledger line; `key` makes every credit happen at most once."""

    wallet = models.ForeignKey(Wallet, on_delete=models.CASCADE, related_name="entries", verbose_name=_("钱包"))
    key = models.CharField(max_length=128, unique=True, verbose_name=_("幂等键"))
    points = models.IntegerField(default=0, verbose_name=_("积分"))
    coupon_code = models.CharField(max_length=64, blank=True, verbose_name=_("优惠券码"))
    coupon_value = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True, verbose_name=_("优惠券面额"))
    coupon_valid_until = models.DateTimeField(null=True, blank=True, verbose_name=_("优惠券有效期至"))
    reason = models.CharField(max_length=255, verbose_name=_("原因"))
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("创建时间"))

    class Meta:
        verbose_name = _("钱包流水")
        verbose_name_plural = pgettext_lazy("plural", "钱包流水")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.key}: {self.points:+d} {self.coupon_code}".strip()


class ApiToken(models.Model):
    """A bearer token; a user may hold many at once (several clients). Only the hash is stored."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens", verbose_name=_("用户"))
    key_hash = models.CharField(max_length=64, unique=True, verbose_name=_("令牌摘要"))
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("创建时间"))
    expires_at = models.DateTimeField(verbose_name=_("过期时间"))
    last_used_at = models.DateTimeField(null=True, blank=True, verbose_name=_("最近使用时间"))

    class Meta:
        verbose_name = _("接口令牌")
        verbose_name_plural = pgettext_lazy("plural", "接口令牌")

    def __str__(self) -> str:
        return f"token of {self.user_id} until {self.expires_at:%Y-%m-%d}"

    @staticmethod
    def hash_key(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()

    @classmethod
    def issue(cls, user: User) -> str:
        key = secrets.token_urlsafe(32)
        cls.objects.create(
            user=user, key_hash=cls.hash_key(key), expires_at=timezone.now() + settings.API_TOKEN_TTL
        )
        return key


class ReferenceRelease(models.Model):
    """A release of reference data applied to this installation: which package, which version, what year.

    The newest row of a kind is what the portal runs on (docs/reference-data.md); `sync_regions` and
    `sync_holidays` add one each time they change something.
    """

    class Kind(models.TextChoices):
        REGIONS = "regions", _("行政区划")
        HOLIDAYS = "holidays", _("法定节假日")

    kind = models.CharField(max_length=16, choices=Kind.choices)
    package = models.CharField(max_length=64)
    version = models.CharField(max_length=32)
    data_year = models.PositiveIntegerField(help_text=_("数据本身所属年份（区划为截至该年年底，节假日为日历年）"))
    applied_at = models.DateTimeField(default=timezone.now)
    summary = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["kind", "-applied_at", "-pk"]
        verbose_name = _("参考数据版本")
        verbose_name_plural = pgettext_lazy("plural", "参考数据版本")

    def __str__(self) -> str:
        return f"{self.kind}: {self.package} {self.version} ({self.data_year})"


class StatutoryHoliday(models.Model):
    """What `sync_holidays` last wrote for one statutory holiday block, to tell a staff edit from its own.

    `holiday_id` names the platform holiday (cases.Holiday) it made; a holiday row that no longer matches
    these dates was edited by staff, and a missing one was removed by staff: the sync leaves both alone.
    """

    year = models.PositiveIntegerField()
    key = models.CharField(max_length=64, help_text=_("节日标识，如 spring_festival"))
    name = models.CharField(max_length=100)
    start_date = models.DateField()
    end_date = models.DateField()
    holiday_id = models.PositiveIntegerField(null=True, blank=True)
    synced_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["start_date"]
        constraints = [models.UniqueConstraint(fields=["year", "key"], name="statutory_holiday_year_key")]

    def __str__(self) -> str:
        return f"{self.name} {self.start_date}–{self.end_date}"


class OutboxMessage(models.Model):
    """One task message owed to the broker (docs/outbox.md): written in the transaction that causes the effect,
    published right after its commit (`sent_at` set then), and by the relay when a crash or a broker outage
    left it unsent. `key` makes it idempotent: a second message with the same key is not written."""

    task = models.CharField(_("任务"), max_length=200)
    args = models.JSONField(_("参数"), default=list, blank=True)
    key = models.CharField(_("幂等键"), max_length=200, unique=True)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    sent_at = models.DateTimeField(_("发送时间"), null=True, blank=True)
    attempts = models.PositiveIntegerField(_("转发次数"), default=0)

    class Meta:
        ordering = ["pk"]
        verbose_name = _("待发消息")
        verbose_name_plural = pgettext_lazy("plural", "待发消息")
        indexes = [
            models.Index(fields=["created_at"], condition=models.Q(sent_at__isnull=True),
                         name="portal_outbox_unsent"),
            models.Index(fields=["sent_at"], condition=models.Q(sent_at__isnull=False),
                         name="portal_outbox_sent"),
        ]

    def __str__(self) -> str:
        return f"{self.task} {self.key}"
