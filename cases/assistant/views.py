"""The assistant's pages: the ask page (also the chat panel's no-script fallback) and handoff threads.

Shoppers see their own threads, a shop's members their shop's (in the merchant desk), platform staff
every thread (the platform's service inbox is the threads sent `to` the platform).
"""

from __future__ import annotations

import time
from typing import Any, cast

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from portal.errors import DomainError
from portal.models import OrderItem, Role, User

from . import engine, services
from .api import QUESTION_MAX
from .models import Thread

PAGE_SIZE = 30


def _user(request: HttpRequest) -> User:
    """The signed-in user (every view here is behind `login_required`)."""
    return cast(User, request.user)


def _language(request: HttpRequest) -> str:
    own = getattr(request.user, "language", "") or ""
    return own or getattr(request, "LANGUAGE_CODE", "") or "zh-hans"


def _item_or_404(request: HttpRequest, raw: str | None) -> OrderItem | None:
    if not raw:
        return None
    try:
        return services.own_item(_user(request), int(raw))
    except (ValueError, DomainError) as exc:
        raise Http404 from exc


def _items_of(request: HttpRequest) -> list[OrderItem]:
    if _user(request).role != Role.CONSUMER:
        return []
    return list(OrderItem.objects.filter(order__consumer=_user(request)).select_related("product", "order")
                .order_by("-order__paid_at", "position")[:50])


@login_required
@require_http_methods(["GET", "POST"])
def ask_page(request: HttpRequest) -> HttpResponse:
    """A question box with the answer below it; the chat panel uses the API and falls back to this."""
    context: dict[str, Any] = {"items": _items_of(request), "nav": "assistant"}
    if request.method == "POST":
        question = services.clean_text(request.POST.get("question") or "")[:QUESTION_MAX]
        item = _item_or_404(request, request.POST.get("order_item"))
        context.update({"question": question, "item_id": item.pk if item else None})
        if question:
            language = _language(request)
            started = time.perf_counter()
            answer = engine.ask(question, language=language, item=item)
            services.exchange_log(user=_user(request), question=question, language=language, item=item,
                                  answer=answer, elapsed_ms=(time.perf_counter() - started) * 1000)
            context["answer"] = answer.as_dict()
        else:
            context["error"] = _("请输入您的问题")
    else:
        raw = request.GET.get("order_item")
        item = _item_or_404(request, raw)
        context["item_id"] = item.pk if item else None
    return render(request, "assistant/ask.html", context, status=400 if context.get("error") else 200)


@login_required
@require_POST
def handoff(request: HttpRequest) -> HttpResponse:
    item = _item_or_404(request, request.POST.get("order_item"))
    try:
        thread = services.handoff_open(user=_user(request), item=item,
                                       message=(request.POST.get("message") or "")[:services.BODY_MAX])
    except DomainError:
        return redirect(reverse("assistant:ask") + (f"?order_item={item.pk}" if item else ""))
    return redirect("assistant:thread", thread_id=thread.pk)


def _thread_or_404(request: HttpRequest, thread_id: int) -> Thread:
    thread = services.threads_for(_user(request)).filter(pk=thread_id).first()
    if thread is None:
        raise Http404
    return thread


def _layout(request: HttpRequest) -> str:
    return "merchant/_layout.html" if _user(request).role == Role.MERCHANT else "base.html"


def _merchant_only(request: HttpRequest) -> None:
    """The desk's copies of the pages are the merchant's (anyone else: 404, as in the rest of the desk)."""
    if _user(request).role != Role.MERCHANT:
        raise Http404


@login_required
@require_GET
def merchant_threads(request: HttpRequest) -> HttpResponse:
    _merchant_only(request)
    return threads(request)


@login_required
@require_http_methods(["GET", "POST"])
def merchant_thread(request: HttpRequest, thread_id: int) -> HttpResponse:
    _merchant_only(request)
    return thread(request, thread_id)


@login_required
@require_GET
def threads(request: HttpRequest) -> HttpResponse:
    qs = services.threads_for(_user(request))
    box = request.GET.get("to", "")
    if box in Thread.To.values:
        qs = qs.filter(to=box)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "assistant/threads.html", {"page": page, "layout": _layout(request), "box": box,
                                                      "nav": "service"})


@login_required
@require_http_methods(["GET", "POST"])
def thread(request: HttpRequest, thread_id: int) -> HttpResponse:
    current = _thread_or_404(request, thread_id)
    error = ""
    if request.method == "POST":
        try:
            services.thread_reply(user=_user(request), thread_id=current.pk, body=request.POST.get("body", ""))
        except DomainError as exc:
            if exc.status == 404:
                raise Http404 from exc
            error = _("请输入回复内容") if exc.code == "required" else _("回复太长了")
        else:
            name = "assistant:merchant-thread" if _user(request).role == Role.MERCHANT else "assistant:thread"
            return redirect(name, thread_id=current.pk)
    return render(request, "assistant/thread.html", {
        "thread": current, "messages_list": list(current.messages.select_related("author")),
        "layout": _layout(request), "error": error, "nav": "service",
        "role": services.thread_role(_user(request), current),
    }, status=400 if error else 200)
