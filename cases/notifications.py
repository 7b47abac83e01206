"""What to tell whom on each action: in-app notifications now, their email copies from a worker after commit."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.utils import timezone, translation

from portal.bulk_insert import insert_columns
from portal.models import Shop, User
from portal.outbox import outbox_put

from . import effects
from .lifecycle import NEXT_PARTY
from .models import AfterSalesCase, Notification
from .notices import next_party_message

log = logging.getLogger(__name__)

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


def notify(*, users: list[int], case: AfterSalesCase | None, kind: str, message: str,
           params: dict[str, Any]) -> None:
    notify_many([Notification(user_id=u, case=case, kind=kind, message=message, params=params) for u in users])


def case_params(case: AfterSalesCase | None, **extra: Any) -> dict[str, Any]:
    """A notice's parameters: the case number, and what else its message names."""
    return {"number": case.number if case is not None else "", **{k: str(v) for k, v in extra.items()}}


def notify_many(rows: list[Notification]) -> None:
    """Store the in-app notifications; their email copies go out from a worker: one outbox message for them
    all (portal.outbox), written here and published after commit."""
    created = Notification.objects.bulk_create(rows)
    ids = [n.pk for n in created if n.pk is not None]
    if ids:
        outbox_put("cases.tasks.send_notification_emails", [ids], key=f"emails:{ids[0]}")


def notifications_email(*, notification_ids: list[int]) -> int:
    """Send the email copy of each notification once, one message per person (nobody sees another's
    address; users without one get none). Answers how many notifications were handled now."""
    with transaction.atomic():
        rows = list(Notification.objects.select_for_update(skip_locked=True, of=("self",))
                    .select_related("user").filter(pk__in=notification_ids, emailed_at__isnull=True))
        messages = []
        for row in rows:
            if row.user.email:
                subject, body = email_body(row)
                messages.append(EmailMessage(subject=subject, body=body, from_email=settings.DEFAULT_FROM_EMAIL,
                                             to=[row.user.email]))
        if messages:
            get_connection().send_messages(messages)
        Notification.objects.filter(pk__in=[r.pk for r in rows]).update(emailed_at=timezone.now())
    return len(rows)


def email_body(notification: Notification) -> tuple[str, str]:
    """Subject and body in both languages (Chinese first): the reader's language is not known to the worker."""
    with translation.override("zh-hans"):
        chinese = notification.display()
    with translation.override("en"):
        english = notification.display()
    if english == chinese:
        return chinese[:80], chinese
    return f"{chinese[:60]} / {english[:60]}", f"{chinese}\n\n{english}\n\n— 售后服务中心 / After-sales service"


def next_party_notice(case: AfterSalesCase, members: dict[int, list[int]]) -> tuple[list[int], str, dict[str, Any]]:
    """The one rule of "your turn" notices: the party who must act once the case is in its state (the
    lifecycle table's NEXT_PARTY) — their user ids, the message key and its parameters; `members` from
    `shop_members`. A move's apply half stores them as columns (`Notices`); the submission as instances
    (`next_party_notices`)."""
    party = NEXT_PARTY.get(case.state, "both")
    return party_user_ids(case, party, members), next_party_message(case.state), case_params(case)


def next_party_notices(case: AfterSalesCase, kind: str, members: dict[int, list[int]]) -> list[Notification]:
    """`next_party_notice`'s rows, told of `kind` (the action or the submission)."""
    users, message, params = next_party_notice(case, members)
    return [Notification(user_id=u, case=case, kind=kind, message=message, params=params) for u in users]


class Notices:
    """Notifications about cases gathered as columns, one list per field (no model instance per row), and
    stored by `store` in one INSERT with their one email message: what `notify_many` does for instances, at
    the deadline sweep's rate (portal.bulk_insert)."""

    def __init__(self) -> None:
        self.columns: dict[str, list[Any]] = {
            "user_id": [], "case_id": [], "shop_id": [], "kind": [], "message": [], "params": []}

    def add(self, users: Iterable[int], case: AfterSalesCase, kind: str, message: str,
            params: dict[str, Any]) -> None:
        c = self.columns
        for user_id in users:
            c["user_id"].append(user_id)
            c["case_id"].append(case.pk)
            c["shop_id"].append(case.shop_id)
            c["kind"].append(kind)
            c["message"].append(message)
            c["params"].append(params)

    def __len__(self) -> int:
        return len(self.columns["user_id"])

    def store(self) -> None:
        if not len(self):
            return
        columns = dict(self.columns, created_at=[timezone.now()] * len(self))
        ids = sorted(row[0] for row in insert_columns(Notification, columns, returning=("id",)))
        outbox_put("cases.tasks.send_notification_emails", [ids], key=f"emails:{ids[0]}")


def notify_next_party(*, case: AfterSalesCase, action: str) -> None:
    notify_many(next_party_notices(case, action, shop_members([case.shop_id])))


def notify_party(*, case: AfterSalesCase, party: str, kind: str, params: dict[str, Any] | None = None,
                 message: str | None = None) -> None:
    """Tell the consumer, the merchant or both (`party`); the message key defaults to the kind."""
    notify(users=_recipients(case, party), case=case, kind=kind, message=message or kind,
           params=params if params is not None else case_params(case))


def notify_staff(*, case: AfterSalesCase | None, kind: str, params: dict[str, Any] | None = None,
                 supervisors_only: bool = False) -> None:
    """Tell platform staff (agents and supervisors, or supervisors only); the message key is the kind."""
    notify(users=staff_ids(supervisors_only=supervisors_only), case=case, kind=kind, message=kind,
           params=params if params is not None else case_params(case))


def notification_emails_resend(*, now: datetime) -> int:
    """Outbox: queue the email copy again for notifications still unsent after OUTBOX_RESEND_AFTER_SECONDS
    (within OUTBOX_RESEND_WINDOW_SECONDS); the task sends each notification at most once."""
    ids = list(Notification.objects.filter(
        emailed_at__isnull=True,
        created_at__lte=now - timedelta(seconds=settings.OUTBOX_RESEND_AFTER_SECONDS),
        created_at__gte=now - timedelta(seconds=settings.OUTBOX_RESEND_WINDOW_SECONDS),
    ).order_by("pk").values_list("pk", flat=True)[:1000])
    for start in range(0, len(ids), 100):
        effects.notification_emails_enqueue(ids[start:start + 100], robust=False)
    return len(ids)
