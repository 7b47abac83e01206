"""After-sales cases: the state machine, its audit trail, deadlines, refunds, evidence and messages."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django_fsm import RETURN_VALUE, ConcurrentTransitionMixin, FSMField, transition
from simple_history.models import HistoricalRecords

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

    number = models.CharField(max_length=32, unique=True, verbose_name=_("售后单号"))
    order_item = models.ForeignKey("portal.OrderItem", on_delete=models.PROTECT, related_name="cases", verbose_name=_("订单商品"))
    consumer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="cases", verbose_name=_("买家"))
    shop = models.ForeignKey("portal.Shop", on_delete=models.PROTECT, related_name="cases", verbose_name=_("店铺"))
    kind = models.CharField(max_length=20, choices=Kind.choices, verbose_name=_("售后类型"))
    reason = models.CharField(max_length=24, choices=Reason.choices, verbose_name=_("售后原因"))
    quantity = models.PositiveIntegerField(default=1, verbose_name=_("数量"))
    amount = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0.00"), verbose_name=_("申请金额"))
    description = models.TextField(blank=True, verbose_name=_("问题描述"))
    condition_intact = models.BooleanField(default=False, verbose_name=_("商品完好"))
    freight_payer = models.CharField(max_length=12, choices=FreightPayer.choices, null=True, blank=True, verbose_name=_("退货运费承担方"))
    state = FSMField(max_length=24, choices=State.choices, default=S.PENDING_MERCHANT, protected=True, verbose_name=_("状态"))
    closure_reason = models.CharField(max_length=24, choices=ClosureReason.choices, null=True, blank=True, verbose_name=_("关闭原因"))
    # Money decided for this case (by approval or ruling) and whether receipt of the return pays it.
    refund_amount = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True, verbose_name=_("应退金额"))
    refund_on_receipt = models.BooleanField(default=False, verbose_name=_("收货后退款"))
    ruled = models.BooleanField(default=False, verbose_name=_("已裁决"))
    # the last ruling: who made it and when (the appeal window counts from it; its maker may not decide the appeal)
    ruled_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="+")
    ruled_at = models.DateTimeField(null=True, blank=True)
    # the state the last ruling left the case in; emptied by any later move (the ruling no longer stands alone)
    ruled_state = models.CharField(max_length=24, blank=True)
    # the appeal (docs/appeals.md): once per case; the state it left is where an upheld ruling returns
    appealed_at = models.DateTimeField(null=True, blank=True)
    appeal_role = models.CharField(max_length=12, blank=True)
    appeal_from_state = models.CharField(max_length=24, blank=True)
    appeal_answered_at = models.DateTimeField(null=True, blank=True)
    appeal_ready = models.BooleanField(default=False)  # answered, or the answer clock ran out
    appeal_outcome = models.CharField(max_length=12, blank=True)
    appeal_decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                          on_delete=models.PROTECT, related_name="+")
    appeal_decided_at = models.DateTimeField(null=True, blank=True)
    return_carrier = models.CharField(max_length=64, blank=True, verbose_name=_("退货快递公司"))
    return_tracking = models.CharField(max_length=64, blank=True, verbose_name=_("退货运单号"))
    replacement_carrier = models.CharField(max_length=64, blank=True, verbose_name=_("寄回快递公司"))
    replacement_tracking = models.CharField(max_length=64, blank=True, verbose_name=_("寄回运单号"))
    # Denormalised current clock, for the deadline-ordered queues.
    deadline_name = models.CharField(max_length=32, choices=DeadlineName.choices, blank=True, verbose_name=_("当前时限"))
    deadline_due_at = models.DateTimeField(null=True, blank=True, verbose_name=_("时限到期时间"))
    overdue = models.BooleanField(default=False, verbose_name=_("已超时"))
    auto_approved = models.BooleanField(default=False, verbose_name=_("系统自动同意"))
    escalated = models.BooleanField(default=False, verbose_name=_("平台介入"))
    first_response_at = models.DateTimeField(null=True, blank=True, verbose_name=_("商家首次响应时间"))
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="assigned_cases"
    , verbose_name=_("处理人"))
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("申请时间"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("更新时间"))
    closed_at = models.DateTimeField(null=True, blank=True, verbose_name=_("结束时间"))

    class Meta:
        verbose_name = _("售后单")
        verbose_name_plural = pgettext_lazy("plural", "售后单")
        indexes = [
            # the merchant queue's walk, and (with updated_at) its per-state summary from the index alone: the
            # tabs' counts and the live version, MAX(updated_at) / MAX(deadline_due_at) per state (issue #26)
            models.Index(fields=["shop", "state", "deadline_due_at"], include=["updated_at"],
                         name="case_shop_queue_live"),
            models.Index(fields=["consumer", "-created_at"], name="case_consumer_recent"),
            models.Index(fields=["state", "deadline_due_at"], name="case_state_deadline"),
            models.Index(fields=["order_item", "state"], name="case_item_state"),
            # the scorecard's windows (cases/scorecard.py, docs/quality.md "Speed"): opened (with the first
            # response) / became terminal (with the platform or not) in the last 30 days, read from the index
            # alone; and the shop's cases as the refunds' join reads them
            models.Index(fields=["shop", "created_at"], include=["first_response_at"], name="case_shop_opened"),
            models.Index(fields=["shop", "closed_at"], include=["escalated"], name="case_shop_ended"),
            models.Index(fields=["shop"], include=["id", "created_at", "reason"], name="case_shop_scorecard"),
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
    @transition(field=state, source=S.INTERCEPTING, target=S.REFUNDED)
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

    @transition(field=state, source=[s for s in NON_TERMINAL if s not in (S.IN_ARBITRATION, S.UNDER_APPEAL)],
                target=S.IN_ARBITRATION)
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
        self.ruled_state = self._ruled(decision, amount, require_return)
        return self.ruled_state

    def _ruled(self, decision: str, amount: Decimal | None, require_return: bool) -> str:
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

    # --- appeal (docs/appeals.md) ----------------------------------------------------------------
    @transition(field=state, source=[S.REFUNDED, S.CLOSED, S.AWAITING_RETURN], target=S.UNDER_APPEAL)
    def appeal(self, *, role: str, at: datetime) -> None:
        """The ruled outcome stays visible: `closure_reason` and `refund_amount` are kept while under appeal."""
        self.appeal_from_state = self.state
        self.appeal_role = role
        self.appealed_at = at
        self.appeal_ready = False
        self.closed_at = None  # no longer terminal; set again when the appeal is decided

    @transition(field=state, source=S.UNDER_APPEAL, target=S.UNDER_APPEAL)
    def answer_appeal(self, *, at: datetime) -> None:
        self.appeal_answered_at = at
        self.appeal_ready = True

    @transition(field=state, source=S.UNDER_APPEAL, target=RETURN_VALUE(S.REFUNDED, S.AWAITING_RETURN, S.CLOSED))
    def decide_appeal(self, *, outcome: str, decision: str = "", amount: Decimal | None = None,
                      require_return: bool = False) -> str:
        self.appeal_outcome = outcome
        self.appeal_ready = False
        self.overdue = False
        if outcome == "uphold":
            return self.appeal_from_state
        self.closure_reason = None
        self.refund_on_receipt = False
        return self._ruled(decision, amount, require_return)

    # --- interception (docs/interception.md) -----------------------------------------------------
    @transition(field=state, source=S.PENDING_MERCHANT, target=S.INTERCEPTING)
    def intercept(self) -> None:
        pass

    @transition(field=state, source=S.INTERCEPTING, target=S.PENDING_MERCHANT)
    def intercept_failed(self) -> None:
        pass

    # --- on-site repair visits (docs/visits.md) --------------------------------------------------
    @transition(field=state, source=S.AWAITING_RETURN, target=S.AWAITING_VISIT)
    def book_visit(self) -> None:
        pass

    @transition(field=state, source=S.AWAITING_VISIT, target=S.AWAITING_RETURN)
    def cancel_visit(self) -> None:
        pass

    @transition(field=state, source=S.AWAITING_VISIT, target=S.COMPLETED)
    def visit_repaired(self) -> None:
        pass

    @transition(field=state, source=S.AWAITING_VISIT, target=S.AWAITING_RETURN)
    def visit_needs_workshop(self) -> None:
        pass

    @transition(field=state, source=S.AWAITING_VISIT, target=S.IN_REPAIR)
    def visit_not_repairable(self) -> None:
        pass


# The events the scorecard counts (cases/scorecard.py): rulings for the consumer, escalations, interventions.
SCORECARD_EVENTS = Q(action="rule", payload__decision="refund") | Q(action__in=["escalate", "intervene"])


def shop_field(*, null: bool = False) -> models.ForeignKey:
    """The shop a case-owned row belongs to (docs/scale.md, sharding plan): the distribution column a
    Citus cluster co-locates cases, their events, clocks, refunds and pickups by. Filled from the case."""
    return models.ForeignKey("portal.Shop", on_delete=models.PROTECT, related_name="+", null=null, blank=True,
                             editable=False, verbose_name=_("店铺"))


class CaseOwnedQuerySet(models.QuerySet):
    def bulk_create(self, objs, *args, **kwargs):
        objs = list(objs)
        shop_ids_fill(self.model, objs)
        return super().bulk_create(objs, *args, **kwargs)


def shop_ids_fill(model: type[models.Model], objs: list[Any]) -> None:
    """Give each row without a shop its owner's (`model.SHOP_FROM`: the case, or a refund or pickup that carries
    it): from the owner already loaded on the row, else one query for all the rest."""
    path = model.SHOP_FROM  # type: ignore[attr-defined]
    field = model._meta.get_field(path)
    attname = field.attname  # type: ignore[union-attr]
    owners: dict[Any, list[Any]] = {}
    for obj in objs:
        if obj.shop_id is not None:
            continue
        owner = obj._state.fields_cache.get(path) if path in obj._state.fields_cache else None
        if owner is not None:
            obj.shop_id = owner.shop_id
        elif getattr(obj, attname) is not None:
            owners.setdefault(getattr(obj, attname), []).append(obj)
    if owners:
        found = dict(field.related_model._default_manager.filter(pk__in=list(owners))  # type: ignore[union-attr]
                     .values_list("pk", "shop_id"))
        for owner_id, rows in owners.items():
            for obj in rows:
                obj.shop_id = found.get(owner_id)


class CaseOwned(models.Model):
    """A row that belongs to one case, and so to its shop: `shop` is filled from `SHOP_FROM` on save and in
    bulk_create (tests/shop_ids.py lists these tables; tests/cases/test_shop_ids.py checks them)."""

    SHOP_FROM = "case"
    shop = shop_field()

    objects = CaseOwnedQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs) -> None:
        if self.shop_id is None:
            shop_ids_fill(type(self), [self])
        super().save(*args, **kwargs)


class CaseEvent(CaseOwned):
    """The audit trail: append-only, written in the transaction of the change it records."""

    case = models.ForeignKey(AfterSalesCase, on_delete=models.PROTECT, related_name="events", verbose_name=_("售后单"))
    at = models.DateTimeField(default=timezone.now, verbose_name=_("时间"))
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, verbose_name=_("操作人"))
    actor_username = models.CharField(max_length=150, null=True, blank=True, verbose_name=_("操作人用户名"))
    role = models.CharField(max_length=12, choices=ActorRole.choices, verbose_name=_("角色"))
    action = models.CharField(max_length=32, verbose_name=_("操作"))
    from_state = models.CharField(max_length=24, null=True, blank=True, verbose_name=_("原状态"))
    to_state = models.CharField(max_length=24, verbose_name=_("新状态"))
    payload = models.JSONField(default=dict, blank=True, verbose_name=_("详情"))

    class Meta:
        verbose_name = _("处理记录")
        verbose_name_plural = pgettext_lazy("plural", "处理记录")
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["case", "at"], name="event_case_at"),
                   models.Index(fields=["action", "at"], name="event_action_at"),
                   # the scorecard's rulings for the consumer and interventions, from the index alone
                   models.Index(fields=["at"], include=["case", "action"], name="event_scorecard",
                                condition=SCORECARD_EVENTS),
                   # the same events of one shop: a range of its own rows (the shop's scorecard)
                   models.Index(fields=["shop", "at"], include=["case", "action"], name="event_shop_scorecard",
                                condition=SCORECARD_EVENTS)]

    def __str__(self) -> str:
        return f"{self.case_id} {self.action} {self.from_state}→{self.to_state}"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None and not kwargs.pop("_allow_update", False):
            raise PermissionError("Case events are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("Case events are append-only.")


class Deadline(CaseOwned):
    """A running clock. The row is the truth: a periodic sweep fires it, at most once."""

    case = models.ForeignKey(AfterSalesCase, on_delete=models.CASCADE, related_name="deadlines", verbose_name=_("售后单"))
    name = models.CharField(max_length=32, choices=DeadlineName.choices, verbose_name=_("时限"))
    state = models.CharField(max_length=24, choices=State.choices, help_text=_("该时限所对应的售后状态"), verbose_name=_("对应状态"))
    started_at = models.DateTimeField(verbose_name=_("开始时间"))
    duration_seconds = models.PositiveIntegerField(verbose_name=_("时长（秒）"))
    due_at = models.DateTimeField(verbose_name=_("到期时间"))
    remind_at = models.DateTimeField(null=True, blank=True, verbose_name=_("提醒时间"))
    reminded_at = models.DateTimeField(null=True, blank=True, verbose_name=_("已提醒时间"))
    fired_at = models.DateTimeField(null=True, blank=True, verbose_name=_("触发时间"))
    cancelled_at = models.DateTimeField(null=True, blank=True, verbose_name=_("取消时间"))

    class Meta:
        verbose_name = _("时限")
        verbose_name_plural = pgettext_lazy("plural", "时限")
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


class Refund(CaseOwned):
    """The case's one refund: `amount` is the total the consumer is paid, by one or more payouts.

    What is paid always equals this amount (lifecycle.md, Money): a later decision for more adds a payout
    of the difference (`RefundPayout`); each payout carries its own idempotency key to the provider.
    """

    case = models.OneToOneField(AfterSalesCase, on_delete=models.PROTECT, related_name="refund", verbose_name=_("售后单"))
    amount = models.DecimalField(max_digits=12, decimal_places=2, verbose_name=_("退款金额"))
    status = models.CharField(max_length=12, choices=RefundStatus.choices, default=RefundStatus.PENDING, verbose_name=_("退款状态"))
    fast = models.BooleanField(default=False, verbose_name=_("极速退款"))
    idempotency_key = models.CharField(max_length=64, unique=True, verbose_name=_("幂等键"))
    attempts = models.PositiveIntegerField(default=0, verbose_name=_("尝试次数"))
    provider_reference = models.CharField(max_length=128, blank=True, verbose_name=_("支付渠道流水号"))
    last_error = models.CharField(max_length=255, blank=True, verbose_name=_("最近错误"))
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("创建时间"))
    paid_at = models.DateTimeField(null=True, blank=True, verbose_name=_("到账时间"))
    last_attempt_at = models.DateTimeField(null=True, blank=True, verbose_name=_("最近尝试时间"))
    points_restored = models.IntegerField(default=0, verbose_name=_("退回积分"))
    coupon_restored = models.BooleanField(default=False, verbose_name=_("退回优惠券"))

    class Meta:
        verbose_name = _("退款")
        verbose_name_plural = pgettext_lazy("plural", "退款")
        indexes = [models.Index(fields=["status", "created_at"], name="refund_status"),
                   # the scorecard's refunds paid, with their case for the join (docs/quality.md "Speed")
                   models.Index(fields=["paid_at"], include=["case"], name="refund_paid"),
                   # one shop's refunds paid: a range of its own rows (the shop's scorecard)
                   models.Index(fields=["shop", "paid_at"], include=["case"], name="refund_shop_paid")]

    def __str__(self) -> str:
        return f"{self.case} ¥{self.amount} {self.status}"


class RefundPayout(CaseOwned):
    """One transfer to the consumer: the first pays the refund, later ones pay a raised amount's difference."""

    SHOP_FROM = "refund"
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
        verbose_name_plural = pgettext_lazy("plural", "退款打款")

    def __str__(self) -> str:
        return f"{self.idempotency_key} ¥{self.amount} {self.status}"


class PlatformAdvance(CaseOwned):
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
        verbose_name_plural = pgettext_lazy("plural", "平台先行垫付")

    def __str__(self) -> str:
        return f"{self.case} ¥{self.amount}"


def evidence_upload_to(instance: CaseEvidence, filename: str) -> str:
    # Never trust the client's file name: only our own random name and a checked extension.

    ext = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp", "application/pdf": "pdf"}.get(
        instance.content_type, "bin"
    )
    return f"evidence/{instance.case_id}/{uuid.uuid4().hex}.{ext}"


class CaseEvidence(CaseOwned):
    case = models.ForeignKey(AfterSalesCase, on_delete=models.CASCADE, related_name="evidence", verbose_name=_("售后单"))
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, verbose_name=_("上传人"))
    role = models.CharField(max_length=12, choices=ActorRole.choices, verbose_name=_("角色"))
    file = models.FileField(upload_to=evidence_upload_to, verbose_name=_("文件"))
    original_name = models.CharField(max_length=255, blank=True, verbose_name=_("原文件名"))
    content_type = models.CharField(max_length=64, verbose_name=_("文件类型"))
    size = models.PositiveIntegerField(verbose_name=_("大小（字节）"))
    note = models.CharField(max_length=500, blank=True, verbose_name=_("说明"))
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("上传时间"))

    class Meta:
        verbose_name = _("凭证")
        verbose_name_plural = pgettext_lazy("plural", "凭证")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.original_name or self.file.name} ({self.content_type})"

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")


class CaseMessage(CaseOwned):
    """The case conversation. Internal notes are for staff only. Messages are not events."""

    case = models.ForeignKey(AfterSalesCase, on_delete=models.CASCADE, related_name="messages", verbose_name=_("售后单"))
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, verbose_name=_("发送人"))
    role = models.CharField(max_length=12, choices=ActorRole.choices, verbose_name=_("角色"))
    body = models.TextField(verbose_name=_("内容"))
    internal = models.BooleanField(default=False, verbose_name=_("内部备注"))
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("发送时间"))

    class Meta:
        verbose_name = _("会话消息")
        verbose_name_plural = pgettext_lazy("plural", "会话消息")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.role}: {self.body[:40]}"


class Notification(CaseOwned):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications", verbose_name=_("用户"))
    case = models.ForeignKey(AfterSalesCase, null=True, blank=True, on_delete=models.CASCADE, verbose_name=_("售后单"))
    shop = shop_field(null=True)  # a notice about no case (a shop's quality standing) has no shop from a case
    kind = models.CharField(max_length=32, verbose_name=_("类型"))
    # what it says: a message key of `cases.notices` and its parameters, rendered in the reader's language;
    # `text` is only for rows written before keys existed
    message = models.CharField(max_length=48, blank=True, default="", verbose_name=_("消息键"))
    params = models.JSONField(default=dict, blank=True, verbose_name=_("参数"))
    text = models.CharField(max_length=500, blank=True, default="", verbose_name=_("内容"))
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("创建时间"))
    read_at = models.DateTimeField(null=True, blank=True, verbose_name=_("阅读时间"))
    # set when the email copy went out (the email task skips these: running it twice sends once)
    emailed_at = models.DateTimeField(null=True, blank=True, verbose_name=_("邮件发送时间"))

    class Meta:
        verbose_name = _("通知")
        verbose_name_plural = pgettext_lazy("plural", "通知")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "read_at"], name="notification_unread")]

    def __str__(self) -> str:
        return self.display()

    def display(self) -> str:
        """What it says, in the active language."""
        return render(self.message, self.params, fallback=self.text)


class ShopNotice(models.Model):
    """A notice the portal owes the shop's system (docs/shop-notices.md): "don't ship" when a `not_shipped`
    refund is approved. Recorded in the transaction of the approval, sent after commit by a signed POST to
    `Shop.notify_url`, re-sent by the outbox sweep until the shop answers 2xx; one per case and kind."""

    case = models.ForeignKey(AfterSalesCase, on_delete=models.PROTECT, related_name="shop_notices",
                             verbose_name=_("售后单"))
    shop = models.ForeignKey("portal.Shop", on_delete=models.PROTECT, related_name="notices", verbose_name=_("店铺"))
    kind = models.CharField(max_length=32, default="do_not_ship", verbose_name=_("通知类型"))
    idempotency_key = models.CharField(max_length=64, unique=True, verbose_name=_("幂等键"))
    payload = models.JSONField(default=dict, verbose_name=_("通知内容"))
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("创建时间"))
    attempts = models.PositiveIntegerField(default=0, verbose_name=_("发送次数"))
    last_attempt_at = models.DateTimeField(null=True, blank=True, verbose_name=_("最近发送时间"))
    last_error = models.CharField(max_length=255, blank=True, verbose_name=_("最近错误"))
    delivered_at = models.DateTimeField(null=True, blank=True, verbose_name=_("送达时间"))

    class Meta:
        verbose_name = _("店铺通知")
        verbose_name_plural = pgettext_lazy("plural", "店铺通知")
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["case", "kind"], name="shop_notice_once_per_kind")]
        indexes = [models.Index(fields=["delivered_at", "created_at"], name="shop_notice_owed")]

    def __str__(self) -> str:
        return self.idempotency_key


class Holiday(models.Model):
    """A platform holiday (Asia/Shanghai dates, inclusive): every running clock pauses over it."""

    name = models.CharField(max_length=100, verbose_name=_("名称"))
    start_date = models.DateField(verbose_name=_("开始日期"))
    end_date = models.DateField(verbose_name=_("结束日期"))
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("节假日")
        verbose_name_plural = pgettext_lazy("plural", "节假日")
        ordering = ["start_date"]

    def __str__(self) -> str:
        return f"{self.name} {self.start_date}–{self.end_date}"


class DeadlinePolicy(models.Model):
    """A deadline duration as policy data; the newest effective row wins for clocks started after it."""

    name = models.CharField(max_length=32, choices=DeadlineName.choices, verbose_name=_("时限"))
    variant = models.CharField(max_length=32, blank=True, help_text=_("例如 not_shipped（未发货）/ refund_only（仅退款）/ other（其他）"), verbose_name=_("适用情形"))
    seconds = models.PositiveIntegerField(verbose_name=_("时长（秒）"))
    effective_from = models.DateTimeField(default=timezone.now, verbose_name=_("生效时间"))
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("时限策略")
        verbose_name_plural = pgettext_lazy("plural", "时限策略")
        ordering = ["name", "variant", "-effective_from"]

    def __str__(self) -> str:
        return f"{self.name}/{self.variant or '*'} = {self.seconds}s from {self.effective_from:%Y-%m-%d}"


class PlatformSetting(models.Model):
    """Staff-editable settings, one row."""

    fast_refund_limit = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("500.00"), verbose_name=_("极速退款额度"))
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("平台设置")
        verbose_name_plural = pgettext_lazy("plural", "平台设置")

    def __str__(self) -> str:
        return f"fast refund ≤ {self.fast_refund_limit}"

    @classmethod
    def current(cls) -> PlatformSetting:
        obj = cls.objects.first()
        return obj if obj is not None else PlatformSetting(fast_refund_limit=settings.FAST_REFUND_LIMIT)

from .payments import SimulatedPayout  # noqa: E402,F401  (the simulated provider keeps its ledger here)
