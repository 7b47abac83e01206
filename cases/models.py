"""After-sales cases: the state machine, its audit trail, deadlines, refunds, evidence and messages."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import RETURN_VALUE, ConcurrentTransitionMixin, FSMField, transition

from .choices import (
    OPEN_STATES,
    TERMINAL_STATES,
    ActorRole,
    ClosureReason,
    DeadlineName,
    FreightPayer,
    Kind,
    Reason,
    RefundStatus,
    State,
)
from .notices import render

S = State
NON_TERMINAL = sorted(OPEN_STATES)


class AfterSalesCase(ConcurrentTransitionMixin, models.Model):
    """One request for after-sales service on one order item.

    Transitions only move state and set the fields that belong to the move; services do the rest.
    """

    number = models.CharField(max_length=32, unique=True)
    order_item = models.ForeignKey("portal.OrderItem", on_delete=models.PROTECT, related_name="cases")
    consumer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="cases")
    shop = models.ForeignKey("portal.Shop", on_delete=models.PROTECT, related_name="cases")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    reason = models.CharField(max_length=24, choices=Reason.choices)
    quantity = models.PositiveIntegerField(default=1)
    amount = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0.00"))
    description = models.TextField(blank=True)
    condition_intact = models.BooleanField(default=False)
    freight_payer = models.CharField(max_length=12, choices=FreightPayer.choices, null=True, blank=True)
    state = FSMField(max_length=24, choices=State.choices, default=S.PENDING_MERCHANT, protected=True)
    closure_reason = models.CharField(max_length=24, choices=ClosureReason.choices, null=True, blank=True)
    # Money decided for this case (by approval or ruling) and whether receipt of the return pays it.
    refund_amount = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    refund_on_receipt = models.BooleanField(default=False)
    ruled = models.BooleanField(default=False)
    return_carrier = models.CharField(max_length=64, blank=True)
    return_tracking = models.CharField(max_length=64, blank=True)
    replacement_carrier = models.CharField(max_length=64, blank=True)
    replacement_tracking = models.CharField(max_length=64, blank=True)
    # Denormalised current clock, for the deadline-ordered queues.
    deadline_name = models.CharField(max_length=32, choices=DeadlineName.choices, blank=True)
    deadline_due_at = models.DateTimeField(null=True, blank=True)
    overdue = models.BooleanField(default=False)
    auto_approved = models.BooleanField(default=False)
    escalated = models.BooleanField(default=False)
    first_response_at = models.DateTimeField(null=True, blank=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="assigned_cases"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["shop", "state", "deadline_due_at"], name="case_shop_queue"),
            models.Index(fields=["consumer", "-created_at"], name="case_consumer_recent"),
            models.Index(fields=["state", "deadline_due_at"], name="case_state_deadline"),
            models.Index(fields=["order_item", "state"], name="case_item_state"),
        ]
        permissions = [
            ("rule_case", "Can rule on after-sales cases"),
            ("reassign_case", "Can reassign arbitration cases"),
            ("edit_platform_settings", "Can edit platform settings"),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def is_terminal(self) -> bool:
        return self.state in TERMINAL_STATES

    # --- transitions (lifecycle.md "States and actions") -------------------------------------
    @transition(field=state, source=S.PENDING_MERCHANT, target=RETURN_VALUE(S.REFUNDED, S.AWAITING_RETURN))
    def approve(self) -> str:
        if self.kind == Kind.REFUND_ONLY:
            self.refund_amount = self.amount
            return S.REFUNDED
        # an approval decides afresh whether receipt refunds: an earlier ruling's require_return does not carry
        self.refund_on_receipt = self.kind == Kind.RETURN_REFUND
        if self.kind == Kind.RETURN_REFUND:
            self.refund_amount = self.amount
        return S.AWAITING_RETURN

    @transition(field=state, source=S.PENDING_MERCHANT, target=S.REJECTED)
    def reject(self) -> None:
        pass

    @transition(field=state, source=[S.PENDING_MERCHANT, S.REJECTED], target=S.PENDING_MERCHANT)
    def revise(self) -> None:
        pass

    @transition(
        field=state,
        source=[S.REJECTED, S.REPLACEMENT_IN_TRANSIT, S.AWAITING_REPLACEMENT, S.IN_REPAIR],
        target=S.IN_ARBITRATION,
    )
    def escalate(self) -> None:
        self.escalated = True

    @transition(field=state, source=S.AWAITING_RETURN, target=S.RETURN_IN_TRANSIT)
    def ship_return(self) -> None:
        pass

    @transition(
        field=state,
        source=S.RETURN_IN_TRANSIT,
        target=RETURN_VALUE(S.REFUNDED, S.AWAITING_REPLACEMENT, S.IN_REPAIR),
    )
    def confirm_receipt(self) -> str:
        if self.refund_on_receipt or self.kind == Kind.RETURN_REFUND:
            return S.REFUNDED
        if self.kind == Kind.EXCHANGE:
            return S.AWAITING_REPLACEMENT
        return S.IN_REPAIR

    @transition(field=state, source=S.RETURN_IN_TRANSIT, target=S.REJECTED)
    def refuse_receipt(self) -> None:
        pass

    @transition(field=state, source=S.AWAITING_REPLACEMENT, target=S.REPLACEMENT_IN_TRANSIT)
    def ship_replacement(self) -> None:
        pass

    @transition(field=state, source=S.IN_REPAIR, target=S.REPLACEMENT_IN_TRANSIT)
    def ship_repaired(self) -> None:
        pass

    @transition(field=state, source=[S.AWAITING_REPLACEMENT, S.IN_REPAIR], target=S.REFUNDED)
    def approve_refund(self) -> None:
        pass

    @transition(field=state, source=S.REPLACEMENT_IN_TRANSIT, target=S.COMPLETED)
    def confirm_completion(self) -> None:
        pass

    @transition(field=state, source=[s for s in NON_TERMINAL if s != S.IN_ARBITRATION], target=S.IN_ARBITRATION)
    def intervene(self) -> None:
        self.escalated = True

    @transition(field=state, source=S.IN_ARBITRATION, target=S.AWAITING_RULING)
    def close_evidence(self) -> None:
        pass

    @transition(
        field=state,
        source=[S.IN_ARBITRATION, S.AWAITING_RULING],
        target=RETURN_VALUE(S.REFUNDED, S.AWAITING_RETURN, S.CLOSED),
    )
    def rule(self, *, decision: str, amount: Decimal | None = None, require_return: bool = False) -> str:
        self.ruled = True
        self.overdue = False
        if decision == "reject":
            self.closure_reason = ClosureReason.RULED_FOR_MERCHANT
            return S.CLOSED
        self.refund_amount = amount
        if require_return:
            self.refund_on_receipt = True
            return S.AWAITING_RETURN
        return S.REFUNDED

    @transition(field=state, source=[S.PENDING_MERCHANT, S.REJECTED, S.AWAITING_RETURN], target=S.CLOSED)
    def withdraw(self) -> None:
        self.closure_reason = ClosureReason.WITHDRAWN

    @transition(field=state, source=[S.REJECTED, S.AWAITING_RETURN], target=S.CLOSED)
    def expire(self) -> None:
        self.closure_reason = ClosureReason.EXPIRED


class CaseEvent(models.Model):
    """The audit trail: append-only, written in the transaction of the change it records."""

    case = models.ForeignKey(AfterSalesCase, on_delete=models.PROTECT, related_name="events")
    at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT)
    actor_username = models.CharField(max_length=150, null=True, blank=True)
    role = models.CharField(max_length=12, choices=ActorRole.choices)
    action = models.CharField(max_length=32)
    from_state = models.CharField(max_length=24, null=True, blank=True)
    to_state = models.CharField(max_length=24)
    payload = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["case", "at"], name="event_case_at")]

    def __str__(self) -> str:
        return f"{self.case_id} {self.action} {self.from_state}→{self.to_state}"

    def save(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        if self.pk is not None and not kwargs.pop("_allow_update", False):
            raise PermissionError("Case events are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        raise PermissionError("Case events are append-only.")


class Deadline(models.Model):
    """A running clock. The row is the truth: a periodic sweep fires it, at most once."""

    case = models.ForeignKey(AfterSalesCase, on_delete=models.CASCADE, related_name="deadlines")
    name = models.CharField(max_length=32, choices=DeadlineName.choices)
    state = models.CharField(max_length=24, choices=State.choices, help_text=_("the state it guards"))
    started_at = models.DateTimeField()
    duration_seconds = models.PositiveIntegerField()
    due_at = models.DateTimeField()
    remind_at = models.DateTimeField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)
    fired_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due_at"]
        indexes = [
            models.Index(fields=["due_at"], name="deadline_due_open",
                         condition=Q(fired_at__isnull=True, cancelled_at__isnull=True)),
            models.Index(fields=["remind_at"], name="deadline_remind_open",
                         condition=Q(reminded_at__isnull=True, fired_at__isnull=True, cancelled_at__isnull=True)),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["case"], condition=Q(fired_at__isnull=True, cancelled_at__isnull=True),
                name="one_running_deadline_per_case",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} → {self.due_at:%Y-%m-%d %H:%M}"

    @property
    def is_running(self) -> bool:
        return self.fired_at is None and self.cancelled_at is None


class Refund(models.Model):
    """The case's one refund: `amount` is the total the consumer is paid, by one or more payouts.

    What is paid always equals this amount (lifecycle.md, Money): a later decision for more adds a payout
    of the difference (`RefundPayout`); each payout carries its own idempotency key to the provider.
    """

    case = models.OneToOneField(AfterSalesCase, on_delete=models.PROTECT, related_name="refund")
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    status = models.CharField(max_length=12, choices=RefundStatus.choices, default=RefundStatus.PENDING)
    fast = models.BooleanField(default=False)
    idempotency_key = models.CharField(max_length=64, unique=True)
    attempts = models.PositiveIntegerField(default=0)
    provider_reference = models.CharField(max_length=128, blank=True)
    last_error = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    paid_at = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    points_restored = models.IntegerField(default=0)
    coupon_restored = models.BooleanField(default=False)

    class Meta:
        indexes = [models.Index(fields=["status", "created_at"], name="refund_status")]

    def __str__(self) -> str:
        return f"{self.case} ¥{self.amount} {self.status}"


class RefundPayout(models.Model):
    """One transfer to the consumer: the first pays the refund, later ones pay a raised amount's difference."""

    refund = models.ForeignKey(Refund, on_delete=models.PROTECT, related_name="payouts")
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    idempotency_key = models.CharField(max_length=64, unique=True)
    fast = models.BooleanField(default=False)
    status = models.CharField(max_length=12, choices=RefundStatus.choices, default=RefundStatus.PENDING)
    provider_reference = models.CharField(max_length=128, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    paid_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("退款打款")
        verbose_name_plural = _("退款打款")

    def __str__(self) -> str:
        return f"{self.idempotency_key} ¥{self.amount} {self.status}"


class PlatformAdvance(models.Model):
    """先行垫付: money the platform bears because a case was decided for the merchant after the consumer was
    paid (the payout stands, the merchant is not charged). Written once per decision."""

    case = models.ForeignKey(AfterSalesCase, on_delete=models.PROTECT, related_name="platform_advances")
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    key = models.CharField(max_length=80, unique=True)
    reason = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("平台先行垫付")
        verbose_name_plural = _("平台先行垫付")

    def __str__(self) -> str:
        return f"{self.case} ¥{self.amount}"


def evidence_upload_to(instance: CaseEvidence, filename: str) -> str:
    # Never trust the client's file name: only our own random name and a checked extension.
    import uuid

    ext = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp", "application/pdf": "pdf"}.get(
        instance.content_type, "bin"
    )
    return f"evidence/{instance.case_id}/{uuid.uuid4().hex}.{ext}"


class CaseEvidence(models.Model):
    case = models.ForeignKey(AfterSalesCase, on_delete=models.CASCADE, related_name="evidence")
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    role = models.CharField(max_length=12, choices=ActorRole.choices)
    file = models.FileField(upload_to=evidence_upload_to)
    original_name = models.CharField(max_length=255, blank=True)
    content_type = models.CharField(max_length=64)
    size = models.PositiveIntegerField()
    note = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.original_name or self.file.name} ({self.content_type})"

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")


class CaseMessage(models.Model):
    """The case conversation. Internal notes are for staff only. Messages are not events."""

    case = models.ForeignKey(AfterSalesCase, on_delete=models.CASCADE, related_name="messages")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    role = models.CharField(max_length=12, choices=ActorRole.choices)
    body = models.TextField()
    internal = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.role}: {self.body[:40]}"


class Notification(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    case = models.ForeignKey(AfterSalesCase, null=True, blank=True, on_delete=models.CASCADE)
    kind = models.CharField(max_length=32)
    # what it says: a message key of `cases.notices` and its parameters, rendered in the reader's language;
    # `text` is only for rows written before keys existed
    message = models.CharField(max_length=48, blank=True, default="")
    params = models.JSONField(default=dict, blank=True)
    text = models.CharField(max_length=500, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)
    # set when the email copy went out (the email task skips these: running it twice sends once)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "read_at"], name="notification_unread")]

    def __str__(self) -> str:
        return self.display()

    def display(self) -> str:
        """What it says, in the active language."""
        return render(self.message, self.params, fallback=self.text)


class Holiday(models.Model):
    """A platform holiday (Asia/Shanghai dates, inclusive): every running clock pauses over it."""

    name = models.CharField(max_length=100)
    start_date = models.DateField()
    end_date = models.DateField()

    class Meta:
        ordering = ["start_date"]

    def __str__(self) -> str:
        return f"{self.name} {self.start_date}–{self.end_date}"


class DeadlinePolicy(models.Model):
    """A deadline duration as policy data; the newest effective row wins for clocks started after it."""

    name = models.CharField(max_length=32, choices=DeadlineName.choices)
    variant = models.CharField(max_length=32, blank=True, help_text=_("e.g. not_shipped / refund_only / other"))
    seconds = models.PositiveIntegerField()
    effective_from = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name", "variant", "-effective_from"]
        verbose_name_plural = "deadline policies"

    def __str__(self) -> str:
        return f"{self.name}/{self.variant or '*'} = {self.seconds}s from {self.effective_from:%Y-%m-%d}"


class PlatformSetting(models.Model):
    """Staff-editable settings, one row."""

    fast_refund_limit = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("500.00"))

    def __str__(self) -> str:
        return f"fast refund ≤ {self.fast_refund_limit}"

    @classmethod
    def current(cls) -> PlatformSetting:
        obj = cls.objects.first()
        return obj if obj is not None else PlatformSetting(fast_refund_limit=settings.FAST_REFUND_LIMIT)

from .payments import SimulatedPayout  # noqa: E402,F401  (the simulated provider keeps its ledger here)
