"""The three faces crawled as consumer, merchant, agent and supervisor, in Chinese and English, at 1280 and 375 px.

Every page: no 4xx/5xx, no console error, no serious or critical axe-core finding (WCAG 2.1 A/AA), no horizontal
overflow. In English, no Chinese interface text outside the user's data (marked `translate="no"` or listed below).

CI runs a representative page set per role (a few minutes); `SOAK=1` crawls every same-site link reachable from
the start pages (`make soak`). The figures of the last run are written to var/crawl-report.json.
"""

from __future__ import annotations

import json
import os
import re
from io import StringIO
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import pytest
from django.conf import settings
from django.core.management import call_command

from tests.e2e.conftest import SCREENSHOTS

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.crawl]

AXE = (Path(__file__).parent / "vendor" / "axe.min.js").read_text(encoding="utf-8")
SOAK = os.environ.get("SOAK") == "1"
WIDTHS = (1280, 375)
LANGS = ("zh-hans", "en")
ROLES = {"consumer": "alice", "merchant": "bob", "agent": "carol", "supervisor": "dave"}
# Representative pages for CI: each kind of page once per role (ids resolved against the seeded demo).
CI_PAGES = {
    "consumer": ["/orders/", "/cases/", "/cases/{awaiting_return}/", "/cases/{in_arbitration_alice}/",
                 "/notifications/", "/orders/items/{open_item}/after-sales/new/"],
    "merchant": ["/merchant/", "/merchant/cases/{pending}/", "/merchant/cases/{awaiting_return}/",
                 "/merchant/metrics/", "/merchant/templates/", "/notifications/"],
    "agent": ["/admin/", "/admin/cases/aftersalescase/", "/admin/cases/aftersalescase/{in_arbitration}/review/",
              "/admin/cases/aftersalescase/dashboard/"],
    "supervisor": ["/admin/cases/aftersalescase/{awaiting_ruling}/review/", "/admin/portal/product/",
                   "/admin/cases/caseevent/", "/admin/cases/deadlinepolicy/"],
}
SKIP = re.compile(r"/(logout|i18n|api|simulated-courier|static|media)/|/export|/download|/file/|/evidence/\d+/$|"
                  r"/delete/|/history/|/password/|/add/|[?&](o|p|page|e)=|/admin/(auth|r)/|/admin/logout")
MAX_PAGES = 80
CJK = re.compile(r"[\u3400-\u9fff\uff01-\uff5e\u3000-\u303f]")
COLLECT_UNTRANSLATED = """() => {
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode, el = node.parentElement;
    if (!el || el.closest('[translate=no], script, style, textarea, option, .mono, code, [data-user]')) continue;
    if (el.closest('[hidden], dialog:not([open])')) continue;
    const text = node.textContent.trim();
    if (text) out.push(text);
  }
  return out;
}"""


@pytest.fixture
def demo(live_server: Any) -> dict[str, Any]:
    """The demo marketplace (seed_demo) and the ids the page list refers to."""
    from cases.models import AfterSalesCase
    from portal.models import OrderItem

    call_command("seed_demo", stdout=StringIO())
    cases = AfterSalesCase.objects.select_related("consumer").order_by("id")
    first = {}
    for case in cases:
        first.setdefault(case.state, case.pk)
    alice = cases.filter(consumer__username="alice")
    open_item = OrderItem.objects.filter(order__consumer__username="alice", cases__isnull=True,
                                         order__signed_at__isnull=False).first()
    return {
        "user_data": _user_data(),
        "pending": first["pending_merchant"], "in_arbitration": first["in_arbitration"],
        "awaiting_ruling": first["awaiting_ruling"],
        "awaiting_return": getattr(alice.filter(state="awaiting_return").first(), "pk", first["awaiting_return"]),
        "in_arbitration_alice": getattr(alice.filter(state__in=["in_arbitration", "rejected"]).first()
                                        or alice.first(), "pk", 1),
        "open_item": open_item.pk if open_item else 1,
    }


def _user_data() -> list[str]:
    """What users typed or imported (names, addresses, statements): Chinese in any interface language."""
    from cases.assistant.models import Exchange, ThreadMessage
    from cases.merchant.models import RejectReason, ReplyTemplate
    from cases.models import AfterSalesCase, CaseEvent, CaseEvidence, CaseMessage, Holiday
    from cases.quality.models import CaseRating
    from portal.models import Order, Product, Region, Shop

    values: set[str] = set()
    values.update(Product.objects.values_list("name", flat=True))
    for row in Shop.objects.values_list("name", "return_line", "return_contact"):
        values.update(row)
    for row in Order.objects.values_list("address_line", "address_contact"):
        values.update(row)
    values.update(Region.objects.values_list("name", flat=True))
    values.update(Holiday.objects.values_list("name", flat=True))  # the official holiday names
    values.update(AfterSalesCase.objects.values_list("description", flat=True))
    values.update(CaseMessage.objects.values_list("body", flat=True))
    values.update(CaseEvidence.objects.values_list("note", flat=True))
    for row in ReplyTemplate.objects.values_list("title", "body"):
        values.update(row)
    values.update(RejectReason.objects.values_list("label", flat=True))
    values.update(CaseRating.objects.values_list("comment", flat=True))  # a shopper's words on the case's rating
    values.update(Exchange.objects.values_list("question", flat=True))
    values.update(ThreadMessage.objects.values_list("body", flat=True))
    for payload in CaseEvent.objects.values_list("payload", flat=True):
        values.update(v for v in (payload or {}).values() if isinstance(v, str))
    values.add("售后")  # the brand
    return sorted((v.strip() for v in values if v and v.strip()), key=len, reverse=True)


def _check(page: Any, url: str, lang: str, errors: list[str], user_data: list[str]) -> dict[str, Any]:
    errors.clear()
    response = page.goto(url)
    page.wait_for_load_state("networkidle")
    status = response.status if response else 0
    console = list(errors)  # before axe: its colour checks inject styles the pages' CSP refuses (and logs)
    page.evaluate(AXE)
    axe = page.evaluate("""async () => {
      const r = await axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']},
                                         resultTypes: ['violations']});
      return r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
        .map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}));
    }""")
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    untranslated = []
    if lang == "en":
        for text in page.evaluate(COLLECT_UNTRANSLATED):
            for value in user_data:
                if value in text:
                    text = text.replace(value, "")
            if CJK.search(text):
                untranslated.append(text)
    return {"url": url, "status": status, "console": console, "axe": axe, "overflow": overflow,
            "untranslated": untranslated[:10]}


def _links(page: Any, base: str) -> list[str]:
    hrefs = page.evaluate("Array.from(document.querySelectorAll('a[href]')).map(a => a.getAttribute('href'))")
    out = []
    for href in hrefs:
        absolute = urljoin(page.url, href)
        parts = urlsplit(absolute)
        if not absolute.startswith(base) or SKIP.search(parts.path + ("?" + parts.query if parts.query else "")):
            continue
        out.append(parts.path + ("?" + parts.query if parts.query else ""))
    return out


def _login(context: Any, base: str, username: str) -> None:
    page = context.new_page()
    page.goto(base + "/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "demo1234")
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")
    page.close()


def _pages_for(role: str, demo: dict[str, Any]) -> list[str]:
    return [p.format(**demo) for p in CI_PAGES[role]]


@pytest.mark.parametrize("role", list(ROLES))
def test_crawl(browser: Any, live_server: Any, demo: dict[str, Any], role: str) -> None:
    base = live_server.url
    report: list[dict[str, Any]] = []
    for lang in LANGS:
        for width in WIDTHS:
            context = browser.new_context(viewport={"width": width, "height": 900}, locale="zh-CN",
                                          is_mobile=width < 500)
            context.add_cookies([{"name": settings.LANGUAGE_COOKIE_NAME, "value": lang, "url": base}])
            _login(context, base, ROLES[role])
            page = context.new_page()
            errors: list[str] = []
            page.on("console", lambda m, errors=errors: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e, errors=errors: errors.append(str(e)))
            queue = _pages_for(role, demo)
            first_page = queue[0]
            seen: set[str] = set()
            while queue and len(seen) < MAX_PAGES:
                path = queue.pop(0)
                if path in seen:
                    continue
                seen.add(path)
                result = _check(page, base + path, lang, errors, demo["user_data"])
                result.update(role=role, lang=lang, width=width)
                report.append(result)
                if SOAK:
                    queue.extend(p for p in _links(page, base) if p not in seen)
                if path == first_page:  # the first screen only: the journeys' tests keep the full pages
                    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
                    name = f"crawl-{role}-{'zh' if lang == 'zh-hans' else 'en'}-{width}.png"
                    page.screenshot(path=str(SCREENSHOTS / name))
            context.close()
    problems = [r for r in report if r["status"] >= 400 or r["console"] or r["axe"] or r["overflow"] > 0
                or r["untranslated"]]
    _write_report(role, report, problems)
    assert not problems, json.dumps(problems, ensure_ascii=False, indent=1)[:6000]


def _write_report(role: str, report: list[dict[str, Any]], problems: list[dict[str, Any]]) -> None:
    (Path(settings.VAR_DIR) / f"crawl-problems-{role}.json").write_text(
        json.dumps(problems, ensure_ascii=False, indent=1))
    path = Path(settings.VAR_DIR) / "crawl-report.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    data = json.loads(path.read_text()) if path.exists() else {}
    data[role] = {"pages": len(report), "errors": sum(r["status"] >= 400 for r in report),
                  "console_errors": sum(len(r["console"]) for r in report),
                  "serious_or_critical": sum(len(r["axe"]) for r in report),
                  "overflowing": sum(r["overflow"] > 0 for r in report),
                  "untranslated_pages": sum(bool(r["untranslated"]) for r in report)}
    path.write_text(json.dumps(data, indent=1))

