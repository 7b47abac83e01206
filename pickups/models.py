"""Door-to-door pickup (上门取件): couriers, slots, pickups with their own state machine and audit trail.

The simulated courier's own bookings live here too (`SimulatedCourierBooking`): the simulator is a separate
HTTP service conceptually, but sharing the database keeps the demo to one process tree.
"""

from __future__ import annotations

import uuid
from decimal import Decimal

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django_fsm import ConcurrentTransitionMixin, FSMField, transition
from simple_history.models import HistoricalRecords

from cases.models import CaseOwned


class PickupState(models.TextChoices):
    REQUESTED = "requested", _("已预约")
    DISPATCHED = "dispatched", _("快递员已接单")
    PICKED_UP = "picked_up", _("已取件")
    IN_TRANSIT = "in_transit", _("运输中")
    DELIVERED = "delivered", _("已送达")
    INSPECTION_FAILED = "inspection_failed", _("验货不符")
    FAILED = "failed", _("取件失败")
    CANCELLED = "cancelled", _("已取消")


PS = PickupState
# States in which a pickup holds the case: a second booking is refused while one is in them.
ACTIVE_STATES = (PS.REQUESTED, PS.DISPATCHED, PS.PICKED_UP, PS.IN_TRANSIT)
# States the consumer may still cancel from (the courier has not taken the parcel).
CANCELLABLE_STATES = (PS.REQUESTED, PS.DISPATCHED)


class Payer(models.TextChoices):
    CONSUMER = "consumer", _("买家承担")
    MERCHANT = "merchant", _("商家承担")
    INSURANCE = "insurance", _("运费险")


class EventSource(models.TextChoices):
    SYSTEM = "system", _("系统")
    COURIER = "courier", _("快递公司")
    CONSUMER = "consumer", _("消费者")


def _new_key() -> str:
    return uuid.uuid4().hex


class Courier(models.Model):
    """A courier company the portal books pickups with: its limits, coverage, price table and API."""

    code = models.SlugField(max_length=32, unique=True, verbose_name=_("编码"))
    name = models.CharField(max_length=100, verbose_name=_("名称"))
    secret = models.CharField(max_length=128, help_text=_("签名密钥（HMAC-SHA256），用于 Webhook 与接口调用"), verbose_name=_("签名密钥"))
    base_url = models.URLField(max_length=255, help_text=_("快递公司接口地址"), verbose_name=_("接口地址"))
    max_weight_grams = models.PositiveIntegerField(default=30000, verbose_name=_("重量上限（克）"))
    max_side_cm = models.PositiveIntegerField(default=150, verbose_name=_("最长边上限（厘米）"))
    capacity_per_slot = models.PositiveIntegerField(default=10, verbose_name=_("每时段名额"))
    first_kg_fee = models.DecimalField(max_digits=8, decimal_places=2, default=Decimal("12.00"), verbose_name=_("首重运费"))
    extra_kg_fee = models.DecimalField(max_digits=8, decimal_places=2, default=Decimal("2.00"), verbose_name=_("续重运费"))
    covers_remote = models.BooleanField(default=False, help_text=_("是否覆盖偏远地区"), verbose_name=_("覆盖偏远地区"))
    # on-site repair visits (docs/visits.md): the same coverage and slots, a flat fee, its own places per slot
    offers_visits = models.BooleanField(default=False, help_text=_("是否提供上门维修"), verbose_name=_("提供上门维修"))
    visit_capacity_per_slot = models.PositiveIntegerField(default=5, verbose_name=_("每时段上门维修名额"))
    visit_fee = models.DecimalField(max_digits=8, decimal_places=2, default=Decimal("30.00"),
                                    verbose_name=_("上门维修费"))
    is_default = models.BooleanField(default=False, verbose_name=_("默认快递"))
    active = models.BooleanField(default=True, verbose_name=_("启用"))
    history = HistoricalRecords(excluded_fields=["secret"])  # who changed the terms; never a copy of the key

    class Meta:
        verbose_name = _("快递公司")
        verbose_name_plural = pgettext_lazy("plural", "快递公司")
        ordering = ["code"]
        constraints = [
            models.UniqueConstraint(fields=["is_default"], condition=Q(is_default=True), name="one_default_courier"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class CourierRegionRule(models.Model):
    """A per-region exception to a courier's coverage or price table (province, city or district)."""

    courier = models.ForeignKey(Courier, on_delete=models.CASCADE, related_name="region_rules", verbose_name=_("快递公司"))
    region = models.ForeignKey("portal.Region", on_delete=models.CASCADE, related_name="+", verbose_name=_("地区"))
    excluded = models.BooleanField(default=False, help_text=_("不在该地区提供上门取件"), verbose_name=_("不提供上门取件"))
    first_kg_fee = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True, verbose_name=_("首重运费"))
    extra_kg_fee = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True, verbose_name=_("续重运费"))

    class Meta:
        verbose_name = _("快递地区规则")
        verbose_name_plural = pgettext_lazy("plural", "快递地区规则")
        constraints = [models.UniqueConstraint(fields=["courier", "region"], name="courier_region_rule_unique")]

    def __str__(self) -> str:
        return f"{self.courier.code} · {self.region_id}"


class SlotKind(models.TextChoices):
    PICKUP = "pickup", _("上门取件")
    VISIT = "visit", _("上门维修")


class Slot(models.Model):
    """A 2-hour window for one city, of pickups or of technician visits (each kind has its own places); rows
    are created lazily when someone asks for options."""

    kind = models.CharField(max_length=8, choices=SlotKind.choices, default=SlotKind.PICKUP, verbose_name=_("类型"))
    courier = models.ForeignKey(Courier, on_delete=models.PROTECT, related_name="slots", verbose_name=_("快递公司"))
    region_code = models.CharField(max_length=6, help_text=_("城市级地区编码"), verbose_name=_("地区"))
    start = models.DateTimeField(verbose_name=_("开始时间"))
    end = models.DateTimeField(verbose_name=_("结束时间"))
    capacity = models.PositiveIntegerField(verbose_name=_("名额"))
    booked = models.PositiveIntegerField(default=0, verbose_name=_("已预约"))

    class Meta:
        verbose_name = _("取件时段")
        verbose_name_plural = pgettext_lazy("plural", "取件时段")
        ordering = ["start", "region_code"]
        constraints = [
            models.UniqueConstraint(fields=["courier", "kind", "region_code", "start"], name="slot_unique_window"),
            models.CheckConstraint(condition=Q(booked__lte=models.F("capacity")), name="slot_not_overbooked"),
        ]

    def __str__(self) -> str:
        return f"{self.courier.code} {self.kind} {self.region_code} {self.start:%Y-%m-%d %H:%M}"

    @property
    def remaining(self) -> int:
        return max(self.capacity - self.booked, 0)


class Pickup(ConcurrentTransitionMixin, CaseOwned):  # includes FSMModelMixin (refresh_from_db works)
    """One booking of a courier for one case's return parcel.

    Transitions only move state and set the fields that belong to the move; pickups.services does the rest.
    """

    case = models.ForeignKey("cases.AfterSalesCase", on_delete=models.PROTECT, related_name="pickups", verbose_name=_("售后单"))
    courier = models.ForeignKey(Courier, on_delete=models.PROTECT, related_name="pickups", verbose_name=_("快递公司"))
    slot = models.ForeignKey(Slot, on_delete=models.PROTECT, related_name="pickups", verbose_name=_("取件时段"))
    state = FSMField(max_length=20, choices=PickupState.choices, default=PS.REQUESTED, protected=True, verbose_name=_("状态"))
    address_region = models.CharField(max_length=6, verbose_name=_("取件地区"))
    address_line = models.CharField(max_length=255, blank=True, verbose_name=_("取件地址"))
    address_contact = models.CharField(max_length=100, blank=True, verbose_name=_("联系人"))
    address_phone = models.CharField(max_length=32, blank=True, verbose_name=_("联系电话"))
    weight_grams = models.PositiveIntegerField(verbose_name=_("重量（克）"))
    longest_side_cm = models.PositiveIntegerField(default=0, verbose_name=_("最长边（厘米）"))
    fee = models.DecimalField(max_digits=10, decimal_places=2, verbose_name=_("运费"))
    payer = models.CharField(max_length=12, choices=Payer.choices, verbose_name=_("运费承担方"))
    waybill = models.CharField(max_length=64, blank=True, db_index=True, verbose_name=_("运单号"))
    idempotency_key = models.CharField(max_length=64, unique=True, default=_new_key, verbose_name=_("幂等键"))
    dispatch_attempts = models.PositiveIntegerField(default=0, verbose_name=_("派单次数"))
    failure_reason = models.CharField(max_length=255, blank=True, verbose_name=_("失败原因"))
    original_due_at = models.DateTimeField(null=True, blank=True,
                                           help_text=_("预约前 consumer_ship 的到期时间"), verbose_name=_("原寄回期限"))
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("预约时间"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("更新时间"))
    dispatched_at = models.DateTimeField(null=True, blank=True, verbose_name=_("接单时间"))
    picked_up_at = models.DateTimeField(null=True, blank=True, verbose_name=_("取件时间"))
    delivered_at = models.DateTimeField(null=True, blank=True, verbose_name=_("送达时间"))
    closed_at = models.DateTimeField(null=True, blank=True, verbose_name=_("结束时间"))
    courier_cancelled_at = models.DateTimeField(null=True, blank=True, verbose_name=_("快递取消确认时间"),
                                                help_text=_("快递公司确认取消预约的时间；为空时由重发任务再次通知"))

    class Meta:
        verbose_name = _("上门取件")
        verbose_name_plural = pgettext_lazy("plural", "上门取件")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["case"], condition=Q(state__in=ACTIVE_STATES),
                                    name="one_active_pickup_per_case"),
        ]
        indexes = [models.Index(fields=["state", "created_at"])]

    def __str__(self) -> str:
        return f"Pickup #{self.pk} ({self.state})"

    @property
    def consumer_fee(self) -> Decimal:
        """What the consumer pays: nothing when the merchant or the insurance pays."""
        return self.fee if self.payer == Payer.CONSUMER else Decimal("0.00")

    @transition(field=state, source=PS.REQUESTED, target=PS.DISPATCHED)
    def dispatch(self, waybill: str) -> None:
        self.waybill = waybill
        self.dispatched_at = timezone.now()

    @transition(field=state, source=PS.DISPATCHED, target=PS.PICKED_UP)
    def pick_up(self) -> None:
        self.picked_up_at = timezone.now()

    @transition(field=state, source=PS.PICKED_UP, target=PS.IN_TRANSIT)
    def depart(self) -> None:
        pass

    @transition(field=state, source=[PS.PICKED_UP, PS.IN_TRANSIT], target=PS.DELIVERED)
    def deliver(self) -> None:
        self.delivered_at = timezone.now()
        self.closed_at = self.delivered_at

    @transition(field=state, source=PS.DISPATCHED, target=PS.INSPECTION_FAILED)
    def fail_inspection(self, reason: str) -> None:
        self.failure_reason = reason[:255]
        self.closed_at = timezone.now()

    @transition(field=state, source=[PS.REQUESTED, PS.DISPATCHED], target=PS.FAILED)
    def fail(self, reason: str) -> None:
        self.failure_reason = reason[:255]

    @transition(field=state, source=CANCELLABLE_STATES, target=PS.CANCELLED)
    def cancel(self) -> None:
        self.closed_at = timezone.now()

    @transition(field=state, source=PS.FAILED, target=PS.REQUESTED)
    def reschedule(self, slot: Slot) -> None:
        self.slot = slot
        self.waybill = ""
        self.failure_reason = ""
        self.dispatch_attempts = 0
        self.dispatched_at = None
        self.idempotency_key = _new_key()  # a new booking at the courier, not a replay of the failed one


class PickupEvent(CaseOwned):
    """Append-only audit of a pickup's changes (who: the system, the courier or the consumer)."""

    SHOP_FROM = "pickup"
    pickup = models.ForeignKey(Pickup, on_delete=models.PROTECT, related_name="events", verbose_name=_("上门取件"))
    at = models.DateTimeField(default=timezone.now, verbose_name=_("时间"))
    action = models.CharField(max_length=32, verbose_name=_("操作"))
    from_state = models.CharField(max_length=20, null=True, blank=True, verbose_name=_("原状态"))
    to_state = models.CharField(max_length=20, verbose_name=_("新状态"))
    payload = models.JSONField(default=dict, blank=True, verbose_name=_("详情"))
    source = models.CharField(max_length=10, choices=EventSource.choices, verbose_name=_("来源"))

    class Meta:
        verbose_name = _("取件记录")
        verbose_name_plural = pgettext_lazy("plural", "取件记录")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.pickup_id} {self.from_state}→{self.to_state}"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None:
            raise PermissionError("Pickup events are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("Pickup events are append-only.")


class CourierEvent(models.Model):
    """Every status event a courier sent us, applied or not; (courier, event_id) makes replays no-ops."""

    courier = models.ForeignKey(Courier, on_delete=models.CASCADE, related_name="events", verbose_name=_("快递公司"))
    # Compared whole for replays: a longer id is refused (400), never cut to fit (cut ids would collide).
    event_id = models.CharField(max_length=255, verbose_name=_("事件编号"))
    received_at = models.DateTimeField(default=timezone.now, verbose_name=_("接收时间"))
    waybill = models.CharField(max_length=64, blank=True, verbose_name=_("运单号"))
    status = models.CharField(max_length=32, blank=True, verbose_name=_("状态"))
    raw_body = models.TextField(verbose_name=_("原始内容"))
    pickup = models.ForeignKey(Pickup, null=True, blank=True, on_delete=models.SET_NULL, related_name="courier_events", verbose_name=_("上门取件"))
    applied = models.BooleanField(default=False, verbose_name=_("已应用"))
    note = models.CharField(max_length=255, blank=True, verbose_name=_("备注"))

    class Meta:
        verbose_name = _("快递回调")
        verbose_name_plural = pgettext_lazy("plural", "快递回调")
        ordering = ["-received_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["courier", "event_id"], name="courier_event_once")]

    def __str__(self) -> str:
        return f"{self.courier_id}:{self.event_id}"


# --- on-site repair visits (docs/visits.md) -------------------------------------------------------

class VisitState(models.TextChoices):
    REQUESTED = "requested", _("已预约")
    CONFIRMED = "confirmed", _("已派技师")
    REPAIRED = "repaired", _("已上门修复")
    NEEDS_WORKSHOP = "needs_workshop", _("需寄修")
    NOT_REPAIRABLE = "not_repairable", _("无法修复")
    CANCELLED = "cancelled", _("已取消")


LIVE_VISIT_STATES = (VisitState.REQUESTED, VisitState.CONFIRMED)
# the technician's outcome (a signed webhook's `status`) → the visit's state
VISIT_OUTCOMES = {"visit_repaired": VisitState.REPAIRED, "visit_needs_workshop": VisitState.NEEDS_WORKSHOP,
                  "visit_not_repairable": VisitState.NOT_REPAIRABLE}


class RepairVisit(models.Model):
    """One technician visit booked for a repair case (the case is `awaiting_visit` while it is live)."""

    case = models.ForeignKey("cases.AfterSalesCase", on_delete=models.PROTECT, related_name="visits",
                             verbose_name=_("售后单"))
    shop = models.ForeignKey("portal.Shop", on_delete=models.PROTECT, related_name="+", verbose_name=_("店铺"))
    courier = models.ForeignKey(Courier, on_delete=models.PROTECT, related_name="visits",
                                verbose_name=_("服务商"))
    slot = models.ForeignKey(Slot, on_delete=models.PROTECT, related_name="visits", verbose_name=_("上门时段"))
    state = models.CharField(max_length=20, choices=VisitState.choices, default=VisitState.REQUESTED,
                             verbose_name=_("状态"))
    address_region = models.CharField(max_length=6, verbose_name=_("上门地区"))
    address_line = models.CharField(max_length=255, blank=True, verbose_name=_("上门地址"))
    address_contact = models.CharField(max_length=100, blank=True, verbose_name=_("联系人"))
    address_phone = models.CharField(max_length=32, blank=True, verbose_name=_("联系电话"))
    fee = models.DecimalField(max_digits=10, decimal_places=2, verbose_name=_("上门费"))
    payer = models.CharField(max_length=12, choices=Payer.choices, verbose_name=_("上门费承担方"))
    reference = models.CharField(max_length=64, blank=True, db_index=True, verbose_name=_("服务单号"),
                                 help_text=_("服务商接单后给出的编号"))
    idempotency_key = models.CharField(max_length=64, unique=True, default=_new_key, verbose_name=_("幂等键"))
    note = models.CharField(max_length=255, blank=True, verbose_name=_("技师备注"))
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("预约时间"))
    confirmed_at = models.DateTimeField(null=True, blank=True, verbose_name=_("派单时间"))
    closed_at = models.DateTimeField(null=True, blank=True, verbose_name=_("结束时间"))
    provider_cancelled_at = models.DateTimeField(null=True, blank=True, verbose_name=_("服务商确认取消时间"),
                                                 help_text=_("服务商确认取消的时间；为空时由重发任务再次通知"))

    class Meta:
        verbose_name = _("上门维修")
        verbose_name_plural = pgettext_lazy("plural", "上门维修")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["case"], condition=Q(state__in=LIVE_VISIT_STATES),
                                    name="one_live_visit_per_case"),
        ]

    def __str__(self) -> str:
        return f"Visit #{self.pk} ({self.state})"

    @property
    def is_live(self) -> bool:
        return self.state in LIVE_VISIT_STATES


class InterceptionRequest(models.Model):
    """The portal's request to a courier to stop a parcel (docs/interception.md), kept until the courier
    acknowledges it (any answer: a result or `requested`), so a lost request is sent again."""

    case = models.ForeignKey("cases.AfterSalesCase", on_delete=models.PROTECT, related_name="interception_requests",
                             verbose_name=_("售后单"))
    shop = models.ForeignKey("portal.Shop", on_delete=models.PROTECT, related_name="+", verbose_name=_("店铺"))
    carrier = models.CharField(max_length=32, verbose_name=_("快递公司"))
    waybill = models.CharField(max_length=64, verbose_name=_("运单号"))
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("请求时间"))
    attempts = models.PositiveIntegerField(default=0, verbose_name=_("发送次数"))
    last_attempt_at = models.DateTimeField(null=True, blank=True, verbose_name=_("最近发送时间"))
    acknowledged_at = models.DateTimeField(null=True, blank=True, verbose_name=_("快递确认时间"))
    answer = models.CharField(max_length=32, blank=True, verbose_name=_("快递答复"))

    class Meta:
        verbose_name = _("拦截请求")
        verbose_name_plural = pgettext_lazy("plural", "拦截请求")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["acknowledged_at", "created_at"], name="interception_owed")]

    def __str__(self) -> str:
        return f"{self.carrier}:{self.waybill}"


# --- the simulated courier's own side -------------------------------------------------------------

class SimulatedBehaviour(models.TextChoices):
    NORMAL = "normal", _("正常")
    NO_SHOW = "no_show", _("快递员未上门")
    INSPECTION_MISMATCH = "inspection_mismatch", _("验货不符")


class SimulatedCourierBooking(models.Model):
    """A booking as the simulated courier stores it; the idempotency key makes a retried booking a replay."""

    idempotency_key = models.CharField(max_length=64, unique=True, verbose_name=_("幂等键"))
    waybill = models.CharField(max_length=64, unique=True, verbose_name=_("运单号"))
    reference = models.CharField(max_length=64, blank=True, verbose_name=_("参考号"))
    region = models.CharField(max_length=6, blank=True, verbose_name=_("地区"))
    address_line = models.CharField(max_length=255, blank=True, verbose_name=_("地址"))
    contact = models.CharField(max_length=100, blank=True, verbose_name=_("联系人"))
    phone = models.CharField(max_length=32, blank=True, verbose_name=_("电话"))
    weight_grams = models.PositiveIntegerField(default=0, verbose_name=_("重量（克）"))
    slot_start = models.DateTimeField(null=True, blank=True, verbose_name=_("时段开始"))
    slot_end = models.DateTimeField(null=True, blank=True, verbose_name=_("时段结束"))
    callback_url = models.URLField(max_length=500, blank=True, verbose_name=_("回调地址"))
    behaviour = models.CharField(max_length=24, choices=SimulatedBehaviour.choices, default=SimulatedBehaviour.NORMAL, verbose_name=_("行为"))
    status = models.CharField(max_length=24, default="booked", verbose_name=_("状态"))
    steps_sent = models.PositiveIntegerField(default=0, verbose_name=_("已发送步骤"))
    next_step_at = models.DateTimeField(default=timezone.now, verbose_name=_("下一步时间"))
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("创建时间"))

    class Meta:
        verbose_name = _("模拟快递预约")
        verbose_name_plural = pgettext_lazy("plural", "模拟快递预约")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.waybill} ({self.status})"


class SimulatedCourierControl(models.Model):
    """The simulator's script (one row): fail or time out the next N bookings, or misbehave at pickup."""

    fail_next = models.PositiveIntegerField(default=0, help_text=_("接下来 N 次下单返回 503"), verbose_name=_("下次失败"))
    timeout_next = models.PositiveIntegerField(default=0, help_text=_("接下来 N 次下单超时（已下单但不应答）"), verbose_name=_("下次超时"))
    behaviour = models.CharField(max_length=24, choices=SimulatedBehaviour.choices, default=SimulatedBehaviour.NORMAL, verbose_name=_("行为"))
    book_calls = models.PositiveIntegerField(default=0, verbose_name=_("预约调用次数"))

    class Meta:
        verbose_name = _("模拟快递控制")
        verbose_name_plural = pgettext_lazy("plural", "模拟快递控制")

    def __str__(self) -> str:
        return f"fail_next={self.fail_next} timeout_next={self.timeout_next} {self.behaviour}"

    @classmethod
    def current(cls) -> SimulatedCourierControl:
        obj, _created = cls.objects.get_or_create(pk=1)
        return obj
