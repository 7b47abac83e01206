"""What to tell whom on each action: in-app notifications now, email after commit."""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.mail import send_mail
from django.db import transaction

from portal.models import User

from .models import AfterSalesCase, Notification

log = logging.getLogger(__name__)

NEXT_PARTY_TEXT = {
    "pending_merchant": ("merchant", "售后单 {n} 待您处理"),
    "rejected": ("consumer", "商家拒绝了您的售后申请 {n}，您可以修改后重新提交或申请平台介入"),
    "awaiting_return": ("consumer", "售后单 {n} 已同意，请寄回商品"),
    "return_in_transit": ("merchant", "售后单 {n} 的退货已寄出，请留意收货"),
    "awaiting_replacement": ("merchant", "售后单 {n} 已收到退货，请发出换货"),
    "in_repair": ("merchant", "售后单 {n} 已收到维修件，请尽快维修"),
    "replacement_in_transit": ("consumer", "售后单 {n} 的商品已寄出，请确认收货"),
    "in_arbitration": ("both", "平台已介入售后单 {n}，请在举证期内提交凭证"),
    "awaiting_ruling": ("both", "售后单 {n} 举证结束，等待平台裁决"),
    "refunded": ("consumer", "售后单 {n} 退款成功"),
    "completed": ("both", "售后单 {n} 已完成"),
    "closed": ("both", "售后单 {n} 已关闭"),
}


def _recipients(case: AfterSalesCase, party: str) -> list[User]:
    users: list[User] = []
    if party in ("consumer", "both"):
        users.append(case.consumer)
    if party in ("merchant", "both"):
        users.extend(case.shop.members.all())
    return users


def notify(*, users: list[User], case: AfterSalesCase | None, kind: str, text: str) -> None:
    Notification.objects.bulk_create([Notification(user=u, case=case, kind=kind, text=text) for u in users])
    emails = [u.email for u in users if u.email]
    if emails:
        transaction.on_commit(lambda: _send_email(emails, text))


def email_body(text: str) -> tuple[str, str]:
    """Subject and body in both languages (Chinese first), from the stored Chinese sentence."""
    from django.utils import translation

    from .web.presenters import notification_text

    with translation.override("en"):
        english = notification_text(text)
    if english == text:
        return text[:80], text
    return f"{text[:60]} / {english[:60]}", f"{text}\n\n{english}\n\n— 售后服务中心 / After-sales service"


def _send_email(emails: list[str], text: str) -> None:
    try:
        subject, body = email_body(text)
        send_mail(subject=subject, message=body, from_email=settings.DEFAULT_FROM_EMAIL, recipient_list=emails,
                  fail_silently=False)
    except Exception:
        log.exception("notification email failed")


def notify_next_party(*, case: AfterSalesCase, action: str) -> None:
    party, template = NEXT_PARTY_TEXT.get(case.state, ("both", "售后单 {n} 有新进展"))
    notify(users=_recipients(case, party), case=case, kind=action, text=template.format(n=case.number))


def notify_party(*, case: AfterSalesCase, party: str, kind: str, text: str) -> None:
    notify(users=_recipients(case, party), case=case, kind=kind, text=text)


def notify_staff(*, case: AfterSalesCase | None, kind: str, text: str, supervisors_only: bool = False) -> None:
    names = ["supervisors"] if supervisors_only else ["agents", "supervisors"]
    users = list(User.objects.filter(groups__in=Group.objects.filter(name__in=names), is_active=True).distinct())
    notify(users=users, case=case, kind=kind, text=text)
