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
from django_fsm import ConcurrentTransitionMixin, FSMField, transition


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

    code = models.SlugField(max_length=32, unique=True)
    name = models.CharField(max_length=100)
    secret = models.CharField(max_length=128, help_text=_("签名密钥（HMAC-SHA256），用于 Webhook 与接口调用"))
    base_url = models.URLField(max_length=255, help_text=_("快递公司接口地址"))
    max_weight_grams = models.PositiveIntegerField(default=30000)
    max_side_cm = models.PositiveIntegerField(default=150)
    capacity_per_slot = models.PositiveIntegerField(default=10)
    first_kg_fee = models.DecimalField(max_digits=8, decimal_places=2, default=Decimal("12.00"))
    extra_kg_fee = models.DecimalField(max_digits=8, decimal_places=2, default=Decimal("2.00"))
    covers_remote = models.BooleanField(default=False, help_text=_("是否覆盖偏远地区"))
    is_default = models.BooleanField(default=False)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["code"]
        constraints = [
            models.UniqueConstraint(fields=["is_default"], condition=Q(is_default=True), name="one_default_courier"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class CourierRegionRule(models.Model):
    """A per-region exception to a courier's coverage or price table (province, city or district)."""

    courier = models.ForeignKey(Courier, on_delete=models.CASCADE, related_name="region_rules")
    region = models.ForeignKey("portal.Region", on_delete=models.CASCADE, related_name="+")
    excluded = models.BooleanField(default=False, help_text=_("不在该地区提供上门取件"))
    first_kg_fee = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True)
    extra_kg_fee = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["courier", "region"], name="courier_region_rule_unique")]

    def __str__(self) -> str:
        return f"{self.courier.code} · {self.region_id}"


class Slot(models.Model):
    """A 2-hour pickup window for one city; rows are created lazily when someone asks for options."""

    courier = models.ForeignKey(Courier, on_delete=models.PROTECT, related_name="slots")
    region_code = models.CharField(max_length=6, help_text=_("城市级地区编码"))
    start = models.DateTimeField()
    end = models.DateTimeField()
    capacity = models.PositiveIntegerField()
    booked = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["start", "region_code"]
        constraints = [
            models.UniqueConstraint(fields=["courier", "region_code", "start"], name="slot_unique_window"),
            models.CheckConstraint(condition=Q(booked__lte=models.F("capacity")), name="slot_not_overbooked"),
        ]

    def __str__(self) -> str:
        return f"{self.courier.code} {self.region_code} {self.start:%Y-%m-%d %H:%M}"

    @property
    def remaining(self) -> int:
        return max(self.capacity - self.booked, 0)


class Pickup(ConcurrentTransitionMixin, models.Model):  # includes FSMModelMixin (refresh_from_db works)
    """One booking of a courier for one case's return parcel.

    Transitions only move state and set the fields that belong to the move; pickups.services does the rest.
    """

    case = models.ForeignKey("cases.AfterSalesCase", on_delete=models.PROTECT, related_name="pickups")
    courier = models.ForeignKey(Courier, on_delete=models.PROTECT, related_name="pickups")
    slot = models.ForeignKey(Slot, on_delete=models.PROTECT, related_name="pickups")
    state = FSMField(max_length=20, choices=PickupState.choices, default=PS.REQUESTED, protected=True)
    address_region = models.CharField(max_length=6)
    address_line = models.CharField(max_length=255, blank=True)
    address_contact = models.CharField(max_length=100, blank=True)
    address_phone = models.CharField(max_length=32, blank=True)
    weight_grams = models.PositiveIntegerField()
    longest_side_cm = models.PositiveIntegerField(default=0)
    fee = models.DecimalField(max_digits=10, decimal_places=2)
    payer = models.CharField(max_length=12, choices=Payer.choices)
    waybill = models.CharField(max_length=64, blank=True, db_index=True)
    idempotency_key = models.CharField(max_length=64, unique=True, default=_new_key)
    dispatch_attempts = models.PositiveIntegerField(default=0)
    failure_reason = models.CharField(max_length=255, blank=True)
    original_due_at = models.DateTimeField(null=True, blank=True,
                                           help_text=_("预约前 consumer_ship 的到期时间"))
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    dispatched_at = models.DateTimeField(null=True, blank=True)
    picked_up_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
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


class PickupEvent(models.Model):
    """Append-only audit of a pickup's changes (who: the system, the courier or the consumer)."""

    pickup = models.ForeignKey(Pickup, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(default=timezone.now)
    action = models.CharField(max_length=32)
    from_state = models.CharField(max_length=20, null=True, blank=True)
    to_state = models.CharField(max_length=20)
    payload = models.JSONField(default=dict, blank=True)
    source = models.CharField(max_length=10, choices=EventSource.choices)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.pickup_id} {self.from_state}→{self.to_state}"


class CourierEvent(models.Model):
    """Every status event a courier sent us, applied or not; (courier, event_id) makes replays no-ops."""

    courier = models.ForeignKey(Courier, on_delete=models.CASCADE, related_name="events")
    # Compared whole for replays: a longer id is refused (400), never cut to fit (cut ids would collide).
    event_id = models.CharField(max_length=255)
    received_at = models.DateTimeField(default=timezone.now)
    waybill = models.CharField(max_length=64, blank=True)
    status = models.CharField(max_length=32, blank=True)
    raw_body = models.TextField()
    pickup = models.ForeignKey(Pickup, null=True, blank=True, on_delete=models.SET_NULL, related_name="courier_events")
    applied = models.BooleanField(default=False)
    note = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["courier", "event_id"], name="courier_event_once")]

    def __str__(self) -> str:
        return f"{self.courier_id}:{self.event_id}"


# --- the simulated courier's own side -------------------------------------------------------------

class SimulatedBehaviour(models.TextChoices):
    NORMAL = "normal", _("正常")
    NO_SHOW = "no_show", _("快递员未上门")
    INSPECTION_MISMATCH = "inspection_mismatch", _("验货不符")


class SimulatedCourierBooking(models.Model):
    """A booking as the simulated courier stores it; the idempotency key makes a retried booking a replay."""

    idempotency_key = models.CharField(max_length=64, unique=True)
    waybill = models.CharField(max_length=64, unique=True)
    reference = models.CharField(max_length=64, blank=True)
    region = models.CharField(max_length=6, blank=True)
    address_line = models.CharField(max_length=255, blank=True)
    contact = models.CharField(max_length=100, blank=True)
    phone = models.CharField(max_length=32, blank=True)
    weight_grams = models.PositiveIntegerField(default=0)
    slot_start = models.DateTimeField(null=True, blank=True)
    slot_end = models.DateTimeField(null=True, blank=True)
    callback_url = models.URLField(max_length=500, blank=True)
    behaviour = models.CharField(max_length=24, choices=SimulatedBehaviour.choices, default=SimulatedBehaviour.NORMAL)
    status = models.CharField(max_length=24, default="booked")
    steps_sent = models.PositiveIntegerField(default=0)
    next_step_at = models.DateTimeField(default=timezone.now)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.waybill} ({self.status})"


class SimulatedCourierControl(models.Model):
    """The simulator's script (one row): fail or time out the next N bookings, or misbehave at pickup."""

    fail_next = models.PositiveIntegerField(default=0, help_text=_("接下来 N 次下单返回 503"))
    timeout_next = models.PositiveIntegerField(default=0, help_text=_("接下来 N 次下单超时（已下单但不应答）"))
    behaviour = models.CharField(max_length=24, choices=SimulatedBehaviour.choices, default=SimulatedBehaviour.NORMAL)
    book_calls = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"fail_next={self.fail_next} timeout_next={self.timeout_next} {self.behaviour}"

    @classmethod
    def current(cls) -> SimulatedCourierControl:
        obj, _created = cls.objects.get_or_create(pk=1)
        return obj
