"""What notifications say: a catalogue of messages by key, rendered in the reader's language when shown or mailed.

The domain stores a notification as a message key and its parameters (`Notification.message`, `.params`),
never a sentence; this module (no presentation import, nothing of the domain but the contract's names) turns
them into text with the active language. Rows written before keys existed keep their stored `text`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext, gettext_noop

# The party who must act next is told, by the state the case entered (keys "next:<state>").
_NEXT = {
    "pending_merchant": gettext_noop("售后单 {number} 待您处理"),
    "rejected": gettext_noop("商家拒绝了您的售后申请 {number}，您可以修改后重新提交或申请平台介入"),
    "awaiting_return": gettext_noop("售后单 {number} 已同意，请寄回商品"),
    "return_in_transit": gettext_noop("售后单 {number} 的退货已寄出，请留意收货"),
    "awaiting_replacement": gettext_noop("售后单 {number} 已收到退货，请发出换货"),
    "in_repair": gettext_noop("售后单 {number} 已收到维修件，请尽快维修"),
    "replacement_in_transit": gettext_noop("售后单 {number} 的商品已寄出，请确认收货"),
    "in_arbitration": gettext_noop("平台已介入售后单 {number}，请在举证期内提交凭证"),
    "awaiting_ruling": gettext_noop("售后单 {number} 举证结束，等待平台裁决"),
    "refunded": gettext_noop("售后单 {number} 退款成功"),
    "completed": gettext_noop("售后单 {number} 已完成"),
    "closed": gettext_noop("售后单 {number} 已关闭"),
    "under_appeal": gettext_noop("售后单 {number} 的裁决已被申诉，被申诉方可在 3 天内答复"),
    "intercepting": gettext_noop("售后单 {number} 正在拦截包裹，请等待快递公司结果"),
    "awaiting_visit": gettext_noop("售后单 {number} 已预约上门维修，请安排技师按时上门"),
}

MESSAGES: Mapping[str, str] = {
    **{f"next:{state}": text for state, text in _NEXT.items()},
    "case_update": gettext_noop("售后单 {number} 有新进展"),
    "new_message": gettext_noop("售后单 {number} 有新消息"),
    "escalated": gettext_noop("售后单 {number} 申请平台介入"),
    "reminder": gettext_noop("提醒：售后单 {number} 需在 {due} 前处理"),
    "ruling_overdue": gettext_noop("售后单 {number} 裁决已超时"),
    "refund_failed": gettext_noop("退款失败，需人工处理：{number}"),
    "fast_refund_refused": gettext_noop("售后单 {number} 已极速退款，但商家拒绝收货，请关注"),
    "platform_advance": gettext_noop("售后单 {number} 裁决支持商家，但已向消费者退款 ¥{amount}，由平台先行垫付"),
    "appealed": gettext_noop("售后单 {number} 的裁决被申诉，待主管复核"),
    "appeal_ready": gettext_noop("售后单 {number} 的申诉可以复核了"),
    "pickup_after_close": gettext_noop("售后单 {number} 已结束，但快递员报告包裹状态 {status}（运单 {waybill}），请跟进"),
    "pickup_failed": gettext_noop(
        "售后单 {number} 的上门取件未能完成，您可以自行寄回商品并填写运单号，或重新预约上门取件时段"),
    "pickup_inspection_failed": gettext_noop("售后单 {number} 上门取件验货未通过：{reason}。请核对商品后自行寄回或联系客服"),
    # the smart assistant's handoff threads (cases/assistant)
    "assistant_handoff": gettext_noop("买家 {user} 转人工咨询：{body}"),
    "assistant_consumer_reply": gettext_noop("买家 {user} 在咨询会话中回复：{body}"),
    "assistant_service_reply": gettext_noop("客服回复了您的咨询：{body}"),
}


def next_party_message(state: str) -> str:
    """The key of what the party who must act next is told when a case enters `state`."""
    return f"next:{state}" if state in _NEXT else "case_update"


def render(message: str, params: Mapping[str, Any], *, fallback: str = "") -> str:
    """The message in the active language with its parameters; a row without a known key shows its old text."""
    template = MESSAGES.get(message)
    if template is None:
        return fallback
    try:
        return gettext(template).format(**params)
    except (KeyError, IndexError, ValueError):
        return gettext(template)
