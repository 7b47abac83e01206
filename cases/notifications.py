"""What to tell whom on each action: in-app notifications now, their email copies from a worker after commit."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import transaction

from portal.models import Shop, User

from .lifecycle import NEXT_PARTY
from .models import AfterSalesCase, Notification

log = logging.getLogger(__name__)

# What the party who must act next (the lifecycle table's NEXT_PARTY) is told when a case enters a state.
NEXT_TEXT = {
    "pending_merchant": "售后单 {n} 待您处理",
    "rejected": "商家拒绝了您的售后申请 {n}，您可以修改后重新提交或申请平台介入",
    "awaiting_return": "售后单 {n} 已同意，请寄回商品",
    "return_in_transit": "售后单 {n} 的退货已寄出，请留意收货",
    "awaiting_replacement": "售后单 {n} 已收到退货，请发出换货",
    "in_repair": "售后单 {n} 已收到维修件，请尽快维修",
    "replacement_in_transit": "售后单 {n} 的商品已寄出，请确认收货",
    "in_arbitration": "平台已介入售后单 {n}，请在举证期内提交凭证",
    "awaiting_ruling": "售后单 {n} 举证结束，等待平台裁决",
    "refunded": "售后单 {n} 退款成功",
    "completed": "售后单 {n} 已完成",
    "closed": "售后单 {n} 已关闭",
}
NEXT_PARTY_TEXT = {state: (NEXT_PARTY[state], text) for state, text in NEXT_TEXT.items()}


def party_user_ids(case: AfterSalesCase, party: str, members: dict[int, list[int]]) -> list[int]:
    """Who `party` ("consumer", "merchant" or "both") is on this case; `members` from `shop_members`."""
    users: list[int] = []
    if party in ("consumer", "both"):
        users.append(case.consumer_id)
    if party in ("merchant", "both"):
        users.extend(members.get(case.shop_id, []))
    return users


def _recipients(case: AfterSalesCase, party: str) -> list[int]:
    return party_user_ids(case, party, shop_members([case.shop_id]))


def shop_members(shop_ids: Iterable[int]) -> dict[int, list[int]]:
    """Member user ids per shop, in one query."""
    members: dict[int, list[int]] = defaultdict(list)
    for shop_id, user_id in Shop.members.through.objects.filter(shop_id__in=set(shop_ids)).values_list(
            "shop_id", "user_id"):
        members[shop_id].append(user_id)
    return members


def staff_ids(*, supervisors_only: bool = False) -> list[int]:
    names = ["supervisors"] if supervisors_only else ["agents", "supervisors"]
    return list(User.objects.filter(groups__in=Group.objects.filter(name__in=names), is_active=True)
                .values_list("pk", flat=True).distinct())


def notify(*, users: list[int], case: AfterSalesCase | None, kind: str, text: str) -> None:
    notify_many([Notification(user_id=u, case=case, kind=kind, text=text) for u in users])


def notify_many(rows: list[Notification]) -> None:
    """Store the in-app notifications; their email copies go out from a worker after commit (one task)."""
    created = Notification.objects.bulk_create(rows)
    ids = [n.pk for n in created if n.pk is not None]
    if ids:
        transaction.on_commit(lambda: _enqueue_emails(ids))


def _enqueue_emails(notification_ids: list[int]) -> None:
    from .tasks import send_notification_emails

    try:
        send_notification_emails.delay(notification_ids)
    except Exception:  # broker down: the in-app notification stays; only its email copy is lost
        log.exception("could not enqueue notification emails", extra={"task": "send_notification_emails"})


def notifications_email(*, notification_ids: list[int]) -> int:
    """Send the email copy of each notification once, one message per person (nobody sees another's
    address; users without one get none). Answers how many notifications were handled now."""
    from django.core.mail import EmailMessage, get_connection
    from django.utils import timezone

    with transaction.atomic():
        rows = list(Notification.objects.select_for_update(skip_locked=True, of=("self",))
                    .select_related("user").filter(pk__in=notification_ids, emailed_at__isnull=True))
        messages = []
        for row in rows:
            if row.user.email:
                subject, body = email_body(row.text)
                messages.append(EmailMessage(subject=subject, body=body, from_email=settings.DEFAULT_FROM_EMAIL,
                                             to=[row.user.email]))
        if messages:
            get_connection().send_messages(messages)
        Notification.objects.filter(pk__in=[r.pk for r in rows]).update(emailed_at=timezone.now())
    return len(rows)


def email_body(text: str) -> tuple[str, str]:
    """Subject and body in both languages (Chinese first), from the stored Chinese sentence."""
    from django.utils import translation

    from .web.presenters import notification_text

    with translation.override("en"):
        english = notification_text(text)
    if english == text:
        return text[:80], text
    return f"{text[:60]} / {english[:60]}", f"{text}\n\n{english}\n\n— 售后服务中心 / After-sales service"


def notify_next_party(*, case: AfterSalesCase, action: str) -> None:
    party, template = NEXT_PARTY_TEXT.get(case.state, ("both", "售后单 {n} 有新进展"))
    notify(users=_recipients(case, party), case=case, kind=action, text=template.format(n=case.number))


def notify_party(*, case: AfterSalesCase, party: str, kind: str, text: str) -> None:
    notify(users=_recipients(case, party), case=case, kind=kind, text=text)


def notify_staff(*, case: AfterSalesCase | None, kind: str, text: str, supervisors_only: bool = False) -> None:
    notify(users=staff_ids(supervisors_only=supervisors_only), case=case, kind=kind, text=text)
