"""The assistant's writes: the answer log, handoff threads and their messages (one change each)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cases.models import AfterSalesCase
from cases.notifications import notify, shop_members, staff_ids
from cases.permissions import shop_ids_of
from portal.errors import DomainError
from portal.models import OrderItem, Role, Shop, User

from .engine import Answer
from .models import Exchange, Thread, ThreadMessage

TRANSCRIPT_WINDOW = timedelta(hours=2)
TRANSCRIPT_MAX = 10
THREAD_REUSE = timedelta(hours=24)
BODY_MAX = 2000
# States in which the platform, not the shop, is handling the item's case.
PLATFORM_STATES = frozenset({"in_arbitration", "awaiting_ruling", "under_appeal"})


def clean_text(value: str) -> str:
    """Text as stored: no NUL characters (PostgreSQL refuses them), no surrounding blanks."""
    return (value or "").replace("\x00", "").strip()


def own_item(user: User, item_id: int | None) -> OrderItem | None:
    """The consumer's own order item; anything else (someone else's, a missing id) is `not_your_order`."""
    if item_id is None:
        return None
    item = (OrderItem.objects.select_related("order__shop", "product")
            .prefetch_related("cases__refund")
            .filter(pk=item_id, order__consumer_id=user.pk).first())
    if item is None or user.role != Role.CONSUMER:
        raise DomainError("not_your_order", _("找不到该订单商品"), field="order_item", status=404)
    return item


def exchange_log(*, user: User, question: str, language: str, item: OrderItem | None, answer: Answer,
                 elapsed_ms: float) -> Exchange:
    suggestion = answer.suggestion or {}
    return Exchange.objects.create(
        user=user, order_item=item, question=clean_text(question), language=language[:8],
        answer=clean_text(answer.answer),
        sources=answer.sources, suggested_kind=suggestion.get("kind", ""),
        suggested_reason=suggestion.get("reason", ""),
        confidence=Decimal(str(round(answer.confidence, 4))), handoff=answer.handoff,
        elapsed_ms=Decimal(str(round(min(elapsed_ms, 999999.99), 2))),
    )


def _transcript(user: User, item: OrderItem | None) -> list[dict[str, str]]:
    since = timezone.now() - TRANSCRIPT_WINDOW
    rows = list(Exchange.objects.filter(user=user, created_at__gte=since, order_item=item)
                .order_by("-created_at", "-id")[:TRANSCRIPT_MAX])
    return [{"at": r.created_at.isoformat(), "question": r.question, "answer": r.answer} for r in reversed(rows)]


def _destination(item: OrderItem | None) -> tuple[str, Shop | None]:
    if item is None:
        return Thread.To.PLATFORM, None
    in_platform_hands = AfterSalesCase.objects.filter(order_item=item, state__in=PLATFORM_STATES).exists()
    return (Thread.To.PLATFORM if in_platform_hands else Thread.To.SHOP), item.order.shop


def handoff_open(*, user: User, item: OrderItem | None, message: str) -> Thread:
    """转人工: the shop's service on an item (the platform's once it intervenes), else the platform's inbox.

    The shopper's recent questions and answers go with it; a thread to the same place within a day is
    continued rather than duplicated.
    """
    to, shop = _destination(item)
    body = clean_text(message)[:BODY_MAX]
    transcript = _transcript(user, item)
    if not body:
        body = transcript[-1]["question"] if transcript else ""
    if not body:
        raise DomainError("required", _("请说说您需要什么帮助"), field="message")
    now = timezone.now()
    with transaction.atomic():
        thread = (Thread.objects.select_for_update()
                  .filter(consumer=user, to=to, shop=shop, order_item=item, updated_at__gte=now - THREAD_REUSE)
                  .order_by("-updated_at").first())
        if thread is None:
            thread = Thread.objects.create(consumer=user, to=to, shop=shop, order_item=item,
                                           transcript=transcript, created_at=now, updated_at=now)
        else:
            seen = {(t["at"], t["question"]) for t in thread.transcript}
            thread.transcript = thread.transcript + [t for t in transcript if (t["at"], t["question"]) not in seen]
            thread.updated_at = now
            thread.save(update_fields=["transcript", "updated_at"])
        ThreadMessage.objects.create(thread=thread, author=user, role=Role.CONSUMER, body=body, created_at=now)
        recipients = shop_members([shop.pk]).get(shop.pk, []) if to == Thread.To.SHOP and shop else staff_ids()
        notify(users=recipients, case=None, kind="assistant_handoff", message="assistant_handoff",
               params={"user": user.username, "body": body[:60], "thread": thread.pk})
    return thread


def thread_role(user: User, thread: Thread) -> str | None:
    """consumer, merchant or staff when the user may read the thread; None otherwise."""
    if not user.is_authenticated:
        return None
    if thread.consumer_id == user.pk:
        return "consumer"
    if user.role == Role.MERCHANT and thread.to == Thread.To.SHOP and thread.shop_id in shop_ids_of(user):
        return "merchant"
    if getattr(user, "is_platform_staff", False):
        return "staff"
    return None


def threads_for(user: User):
    """The threads a user may read: their own, their shops', or (staff) every one."""
    qs = Thread.objects.select_related("consumer", "shop", "order_item__product")
    if getattr(user, "is_platform_staff", False):
        return qs
    if user.role == Role.MERCHANT:
        return qs.filter(to=Thread.To.SHOP, shop__members=user)
    return qs.filter(consumer=user)


def thread_reply(*, user: User, thread_id: int, body: str) -> ThreadMessage:
    body = clean_text(body)
    if not body:
        raise DomainError("required", _("消息不能为空"), field="body")
    if len(body) > BODY_MAX:
        raise DomainError("invalid", _("最多 %(limit)s 个字符") % {"limit": BODY_MAX}, field="body")
    with transaction.atomic():
        thread = Thread.objects.select_for_update().filter(pk=thread_id).first()
        role = thread_role(user, thread) if thread is not None else None
        if thread is None or role is None:
            raise DomainError("not_found", _("找不到该资源"), status=404)
        now = timezone.now()
        message = ThreadMessage.objects.create(thread=thread, author=user, role=role, body=body, created_at=now)
        thread.updated_at = now
        fields = ["updated_at"]
        if role != "consumer" and thread.answered_at is None:
            thread.answered_at = now
            fields.append("answered_at")
        thread.save(update_fields=fields)
        if role == "consumer":
            shop_id = thread.shop_id
            recipients = (shop_members([shop_id]).get(shop_id, [])
                          if thread.to == Thread.To.SHOP and shop_id is not None else staff_ids())
            notify(users=recipients, case=None, kind="assistant_thread", message="assistant_consumer_reply",
                   params={"user": user.username, "body": body[:60], "thread": thread.pk})
        else:
            notify(users=[thread.consumer_id], case=None, kind="assistant_thread", message="assistant_service_reply",
                   params={"body": body[:60], "thread": thread.pk})
    return message
