/* The smart assistant on the pages: the chat panel, the request form's reason hint, and the merchant's
   reply suggestions. No inline script (CSP); everything hangs on data- attributes; pages work without it. */
(function () {
  "use strict";
  if (window.__assistantBound) { return; }
  window.__assistantBound = true;

  function csrf() {
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }
  function post(url, body) {
    return fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf(), "Accept": "application/json" },
      body: JSON.stringify(body)
    }).then(function (r) { return r.json().then(function (data) { return { ok: r.ok, data: data }; }); });
  }
  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) { node.className = cls; }
    if (text !== undefined && text !== null) { node.textContent = text; }
    return node;
  }

  function bindPanel(panel) {
    var form = panel.querySelector("[data-assistant-form]");
    var log = panel.querySelector("[data-assistant-log]");
    var t = panel.dataset;
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var q = form.elements.question.value.trim();
      if (!q) { return; }
      var itemField = form.elements.order_item;
      var item = itemField && itemField.value ? parseInt(itemField.value, 10) : null;
      var mine = el("li", "mine"); mine.appendChild(el("span", "meta", t.tYou)); mine.appendChild(document.createTextNode(" " + q));
      log.appendChild(mine);
      var reply = el("li", "", t.tWait); reply.setAttribute("data-testid", "assistant-reply");
      log.appendChild(reply);
      form.elements.question.value = "";
      post(t.askUrl, { question: q, order_item: item }).then(function (res) {
        reply.textContent = "";
        if (!res.ok) { reply.textContent = (res.data && res.data.detail) || t.tError; return; }
        render(reply, res.data, q, item);
      }).catch(function () { reply.textContent = t.tError; });
    });

    function render(li, a, question, item) {
      li.appendChild(el("span", "meta", t.tBot));
      a.answer.split("\n").forEach(function (line) { li.appendChild(el("p", "assistant-answer", line)); });
      if (a.sources && a.sources.length) {
        li.appendChild(el("p", "small muted", t.tSources + "：" + a.sources.map(function (s) { return s.title; }).join("、")));
      }
      if (a.suggestion) {
        var p = el("p", "assistant-suggestion", t.tSuggest + "：" + (a.suggestion_label || (a.suggestion.kind + " · " + a.suggestion.reason)) + " ");
        if (a.apply_url) {
          var link = el("a", "btn small primary", t.tApply);
          link.href = a.apply_url; link.setAttribute("data-testid", "assistant-apply");
          p.appendChild(link);
        } else {
          p.appendChild(el("span", "small muted", t.tPick));
        }
        li.appendChild(p);
      }
      var human = el("button", "small" + (a.handoff ? " primary" : ""), t.tHandoff);
      human.type = "button"; human.setAttribute("data-testid", "assistant-handoff");
      human.addEventListener("click", function () {
        human.disabled = true;
        post(t.handoffUrl, { order_item: item, message: question }).then(function (res) {
          if (!res.ok) { human.disabled = false; return; }
          var done = el("p", "small", t.tHanded + " ");
          var link = el("a", "", t.tThread + " #" + res.data.id);
          link.href = t.threadUrl + res.data.id + "/";
          done.appendChild(link);
          human.replaceWith(done);
        });
      });
      li.appendChild(human);
    }
  }

  function bindReasonHint(hint) {
    var description = document.getElementById("id_description");
    if (!description) { return; }
    var timer = null, last = "";
    description.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () {
        var text = description.value.trim().slice(0, 500);
        if (text.length < 2 || text === last) { return; }
        last = text;
        post(hint.dataset.askUrl, { question: text, order_item: parseInt(hint.dataset.item, 10) }).then(function (res) {
          hint.textContent = "";
          if (!res.ok || !res.data.suggestion) { hint.hidden = true; return; }
          var s = res.data.suggestion;
          hint.appendChild(document.createTextNode(hint.dataset.tSuggest + "：" + res.data.suggestion_label + " "));
          var radio = document.getElementById("reason-" + s.reason);
          if (s.kind === hint.dataset.kind && radio) {
            var use = el("button", "link small", hint.dataset.tUse);
            use.type = "button"; use.setAttribute("data-testid", "use-suggested-reason");
            use.addEventListener("click", function () { radio.checked = true; radio.dispatchEvent(new Event("change", { bubbles: true })); });
            hint.appendChild(use);
          } else if (res.data.apply_url) {
            var link = el("a", "small", hint.dataset.tSwitch);
            link.href = res.data.apply_url;
            hint.appendChild(link);
          }
          hint.hidden = false;
        });
      }, 500);
    });
  }

  function bindReplyInsert(button) {
    button.addEventListener("click", function () {
      var box = document.getElementById(button.dataset.insertReply);
      if (!box) { return; }
      box.value = box.value ? box.value + "\n" + button.dataset.text : button.dataset.text;
      box.focus();
    });
  }

  function start() {
    document.querySelectorAll("[data-assistant]").forEach(bindPanel);
    document.querySelectorAll("[data-reason-hint]").forEach(bindReasonHint);
    document.querySelectorAll("[data-insert-reply]").forEach(bindReplyInsert);
  }
  if (document.readyState !== "loading") { start(); } else { document.addEventListener("DOMContentLoaded", start); }
})();
