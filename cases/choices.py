"""The contract's names (lifecycle.md): kinds, reasons, states, closure reasons, roles, deadlines."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Kind(models.TextChoices):
    REFUND_ONLY = "refund_only", _("仅退款")
    RETURN_REFUND = "return_refund", _("退货退款")
    EXCHANGE = "exchange", _("换货")
    REPAIR = "repair", _("保修/维修")


class Reason(models.TextChoices):
    NO_REASON = "no_reason", _("七天无理由")
    QUALITY_ISSUE = "quality_issue", _("质量问题")
    NOT_AS_DESCRIBED = "not_as_described", _("与描述不符")
    WRONG_ITEM = "wrong_item", _("商家发错货")
    MISSING_PARTS = "missing_parts", _("少件/漏发")
    DAMAGED_IN_TRANSIT = "damaged_in_transit", _("运输破损")
    NOT_RECEIVED = "not_received", _("未收到货")
    NOT_SHIPPED = "not_shipped", _("商家未发货")
    OTHER = "other", _("其他")


QUALITY_REASONS = frozenset({Reason.QUALITY_ISSUE, Reason.NOT_AS_DESCRIBED, Reason.WRONG_ITEM, Reason.MISSING_PARTS})
MERCHANT_FAULT_REASONS = QUALITY_REASONS | {Reason.DAMAGED_IN_TRANSIT}


class State(models.TextChoices):
    PENDING_MERCHANT = "pending_merchant", _("待商家处理")
    REJECTED = "rejected", _("商家已拒绝")
    AWAITING_RETURN = "awaiting_return", _("待买家退货")
    RETURN_IN_TRANSIT = "return_in_transit", _("退货运输中")
    AWAITING_REPLACEMENT = "awaiting_replacement", _("待商家换货")
    IN_REPAIR = "in_repair", _("维修中")
    REPLACEMENT_IN_TRANSIT = "replacement_in_transit", _("商品寄回中")
    IN_ARBITRATION = "in_arbitration", _("平台介入中")
    AWAITING_RULING = "awaiting_ruling", _("待平台裁决")
    REFUNDED = "refunded", _("退款成功")
    COMPLETED = "completed", _("已完成")
    CLOSED = "closed", _("已关闭")
    UNDER_APPEAL = "under_appeal", _("申诉处理中")
    INTERCEPTING = "intercepting", _("拦截中")
    AWAITING_VISIT = "awaiting_visit", _("待上门维修")


TERMINAL_STATES = frozenset({State.REFUNDED, State.COMPLETED, State.CLOSED})
OPEN_STATES = frozenset(s for s in State.values if s not in TERMINAL_STATES)


class ClosureReason(models.TextChoices):
    WITHDRAWN = "withdrawn", _("买家撤销")
    EXPIRED = "expired", _("超时关闭")
    RULED_FOR_MERCHANT = "ruled_for_merchant", _("平台判定商家胜诉")


class ActorRole(models.TextChoices):
    CONSUMER = "consumer", _("消费者")
    MERCHANT = "merchant", _("商家")
    STAFF = "staff", _("平台")
    SYSTEM = "system", _("系统")


class FreightPayer(models.TextChoices):
    CONSUMER = "consumer", _("买家承担")
    MERCHANT = "merchant", _("商家承担")
    INSURANCE = "insurance", _("运费险")


class Action(models.TextChoices):
    SUBMIT = "submit", _("提交申请")
    APPROVE = "approve", _("同意")
    REJECT = "reject", _("拒绝")
    REVISE = "revise", _("修改申请")
    WITHDRAW = "withdraw", _("撤销申请")
    ESCALATE = "escalate", _("申请平台介入")
    SHIP_RETURN = "ship_return", _("寄回商品")
    CONFIRM_RECEIPT = "confirm_receipt", _("确认收货")
    REFUSE_RECEIPT = "refuse_receipt", _("拒绝收货")
    SHIP_REPLACEMENT = "ship_replacement", _("发出换货")
    SHIP_REPAIRED = "ship_repaired", _("寄回维修件")
    APPROVE_REFUND = "approve_refund", _("改为退款")
    CONFIRM_COMPLETION = "confirm_completion", _("确认完成")
    INTERVENE = "intervene", _("平台介入")
    CLOSE_EVIDENCE = "close_evidence", _("举证结束")
    RULE = "rule", _("平台裁决")
    EXPIRE = "expire", _("超时关闭")
    APPEAL = "appeal", _("申诉")
    ANSWER_APPEAL = "answer_appeal", _("答复申诉")
    DECIDE_APPEAL = "decide_appeal", _("申诉复核")
    INTERCEPT = "intercept", _("拦截包裹")
    INTERCEPT_FAILED = "intercept_failed", _("拦截失败")
    BOOK_VISIT = "book_visit", _("预约上门维修")
    CANCEL_VISIT = "cancel_visit", _("取消上门维修")
    VISIT_REPAIRED = "visit_repaired", _("上门修复")
    VISIT_NEEDS_WORKSHOP = "visit_needs_workshop", _("需寄修")
    VISIT_NOT_REPAIRABLE = "visit_not_repairable", _("无法修复")


class DeadlineName(models.TextChoices):
    MERCHANT_RESPONSE = "merchant_response", _("商家处理时限")
    CONSUMER_REVISE = "consumer_revise", _("买家修改时限")
    CONSUMER_SHIP = "consumer_ship", _("买家退货时限")
    MERCHANT_RECEIVE = "merchant_receive", _("商家收货时限")
    MERCHANT_SHIP_REPLACEMENT = "merchant_ship_replacement", _("商家换货时限")
    MERCHANT_REPAIR = "merchant_repair", _("商家维修时限")
    CONSUMER_CONFIRM = "consumer_confirm", _("买家确认时限")
    EVIDENCE = "evidence", _("举证时限")
    RULING_SLA = "ruling_sla", _("裁决时限")
    APPEAL_ANSWER = "appeal_answer", _("申诉答复时限")
    INTERCEPTION = "interception", _("拦截时限")
    TECHNICIAN_VISIT = "technician_visit", _("上门维修时限")


class AppealOutcome(models.TextChoices):
    UPHOLD = "uphold", _("维持原裁决")
    OVERTURN = "overturn", _("改判")


class RefundStatus(models.TextChoices):
    PENDING = "pending", _("退款处理中")
    SUCCEEDED = "succeeded", _("退款成功")
    FAILED = "failed", _("退款失败")
