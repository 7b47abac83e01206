/* Shouhou portal: small progressive enhancements. Every page works without this file.
   No inline scripts anywhere (a CSP without 'unsafe-inline' holds): behaviour hangs on data- attributes. */
(function () {
  "use strict";

  function onReady(fn) {
    if (document.readyState !== "loading") { fn(); } else { document.addEventListener("DOMContentLoaded", fn); }
  }
  function once(el, key) {
    if (el.dataset["bound" + key]) { return false; }
    el.dataset["bound" + key] = "1";
    return true;
  }

  // <select data-autosubmit>: submit its form on change (the language switcher).
  function bindAutosubmit(root) {
    root.querySelectorAll("select[data-autosubmit]").forEach(function (el) {
      if (!once(el, "Auto")) { return; }
      el.addEventListener("change", function () { if (el.form) { el.form.submit(); } });
    });
  }

  // <span data-countdown data-due="ISO" data-u-d="天" ...>: live remaining time, two units.
  function formatRemaining(seconds, el) {
    var total = Math.max(Math.floor(seconds), 0);
    var d = Math.floor(total / 86400), h = Math.floor((total % 86400) / 3600);
    var m = Math.floor((total % 3600) / 60), s = total % 60;
    var b = document.body.dataset;  // the page's units, unless the element brings its own
    var sep = el.dataset.sep !== undefined ? el.dataset.sep : (b.sep || "");
    var u = { d: el.dataset.uD || b.uD, h: el.dataset.uH || b.uH, m: el.dataset.uM || b.uM, s: el.dataset.uS || b.uS };
    var parts = d ? [[d, "d"], [h, "h"]] : h ? [[h, "h"], [m, "m"]] : [[m, "m"], [s, "s"]];
    return parts.map(function (p) { return p[0] + sep + u[p[1]]; }).join(sep);
  }
  function tickCountdowns() {
    var now = Date.now();
    document.querySelectorAll("[data-countdown]").forEach(function (el) {
      var due = Date.parse(el.dataset.due);
      if (isNaN(due)) { return; }
      var left = (due - now) / 1000;
      var text = left <= 0 ? (el.dataset.expired || document.body.dataset.expired || "0") : formatRemaining(left, el);
      if (el.textContent !== text) { el.textContent = text; }
    });
  }

  // <input type=file data-photo-input>: preview chosen photos; refuse wrong types and sizes before upload.
  var ACCEPTED = ["image/jpeg", "image/png", "image/webp", "application/pdf"];
  function bindPhotoInputs(root) {
    root.querySelectorAll("input[type=file][data-photo-input]").forEach(function (input) {
      if (!once(input, "Photo")) { return; }
      input.addEventListener("change", function () { checkAndPreview(input); });
    });
  }
  function checkAndPreview(input) {
    var maxBytes = parseInt(input.dataset.maxBytes || "10485760", 10);
    var maxFiles = parseInt(input.dataset.maxFiles || "9", 10);
    var field = input.closest(".field") || input.parentNode;
    var errorEl = field.querySelector("[data-photo-error]");
    var preview = input.dataset.preview ? document.querySelector(input.dataset.preview) : null;
    var files = Array.prototype.slice.call(input.files || []);
    var problem = "";
    if (files.length > maxFiles) { problem = input.dataset.msgCount; }
    files.forEach(function (file) {
      if (problem) { return; }
      if (ACCEPTED.indexOf(file.type) < 0) { problem = input.dataset.msgType + " (" + file.name + ")"; }
      else if (file.size > maxBytes) { problem = input.dataset.msgSize + " (" + file.name + ")"; }
    });
    if (preview) {
      preview.querySelectorAll("img").forEach(function (img) { URL.revokeObjectURL(img.src); });
      preview.textContent = "";
    }
    if (problem) {
      input.value = "";
      input.setAttribute("aria-invalid", "true");
      if (errorEl) { errorEl.textContent = problem; errorEl.hidden = false; }
      return;
    }
    input.removeAttribute("aria-invalid");
    if (errorEl) { errorEl.textContent = ""; errorEl.hidden = true; }
    if (!preview) { return; }
    files.forEach(function (file) {
      var box = document.createElement("div");
      box.className = "preview";
      if (file.type.indexOf("image/") === 0) {
        var img = document.createElement("img");
        img.src = URL.createObjectURL(file);
        img.alt = file.name;
        box.appendChild(img);
      } else {
        box.className += " file";
        box.appendChild(document.createTextNode("PDF"));
      }
      var name = document.createElement("span");
      name.className = "name";
      name.textContent = file.name;
      box.appendChild(name);
      preview.appendChild(box);
    });
  }

  // <button data-confirm="...">: ask in a <dialog> before an irreversible action.
  function bindConfirms(root) {
    root.querySelectorAll("[data-confirm]").forEach(function (button) {
      if (!once(button, "Confirm")) { return; }
      button.addEventListener("click", function (event) {
        var dialog = document.getElementById("confirm-dialog");
        if (button.dataset.confirmed === "1" || !dialog || typeof dialog.showModal !== "function") {
          button.dataset.confirmed = "";
          return;
        }
        // Validate before asking: a form that is missing something goes to the server, which says what.
        if (button.form && typeof button.form.checkValidity === "function" && !button.form.checkValidity()) {
          return;
        }
        event.preventDefault();
        dialog.querySelector("#confirm-dialog-text").textContent = button.dataset.confirm;
        var ok = dialog.querySelector("[data-dialog-ok]");
        var cancel = dialog.querySelector("[data-dialog-cancel]");
        function close(go) {
          ok.removeEventListener("click", onOk);
          cancel.removeEventListener("click", onCancel);
          dialog.close();
          if (go) {
            button.dataset.confirmed = "1";
            if (button.form && typeof button.form.requestSubmit === "function") {
              button.form.requestSubmit(button);
            } else {
              button.click();
            }
          } else {
            button.focus();
          }
        }
        function onOk() { close(true); }
        function onCancel() { close(false); }
        ok.addEventListener("click", onOk);
        cancel.addEventListener("click", onCancel);
        dialog.showModal();
        ok.focus();
      });
    });
  }

  // The request form: the freight payer, the no-reason declaration and the maximum amount follow the choices.
  function bindCaseForm(root) {
    var form = root.querySelector("#case-form");
    if (!form || !once(form, "Case")) { return; }
    var summary = form.querySelector("[data-freight-summary]");
    var declaration = form.querySelector("[data-show-for]");
    function reasonChanged() {
      var checked = form.querySelector("input[name=reason]:checked");
      if (summary) { summary.textContent = checked ? checked.dataset.freight : summary.dataset.empty; }
      if (declaration) { declaration.hidden = !checked || checked.value !== declaration.dataset.showFor; }
    }
    form.querySelectorAll("input[name=reason]").forEach(function (radio) {
      radio.addEventListener("change", reasonChanged);
    });
    reasonChanged();

    var amount = form.querySelector("input[name=amount][data-claims]");
    var quantity = form.querySelector("input[name=quantity]");
    if (amount && quantity) {
      var claims = {};
      amount.dataset.claims.split(";").forEach(function (pair) {
        var kv = pair.split(":");
        if (kv.length === 2) { claims[kv[0]] = kv[1]; }
      });
      var maxEl = form.querySelector("[data-claim-max]");
      var last = claims[quantity.value];
      var showMax = function () { if (maxEl) { maxEl.textContent = claims[quantity.value] ? "(≤ ¥" + claims[quantity.value] + ")" : ""; } };
      quantity.addEventListener("input", function () {
        var max = claims[quantity.value];
        if (max && (amount.value === "" || amount.value === last)) { amount.value = max; }
        last = max;
        showMax();
      });
      showMax();
    }
  }

  // After a failed submit: the address bar shows the page (not the POST URL), and the first error is in view
  // and focused, with the summary read out first.
  function showFirstError() {
    var meta = document.querySelector("meta[name=canonical-path]");
    var canonical = document.body.dataset.canonical || (meta && meta.getAttribute("content"));
    if (canonical && window.history && history.replaceState && location.pathname !== canonical) {
      history.replaceState(null, "", canonical + location.hash);
    }
    var summary = document.querySelector("[data-error-summary]");
    var field = document.querySelector("[aria-invalid=true], .has-error input, .has-error textarea, .has-error select," +
                                       " .sh-field-error input, .sh-field-error textarea, .errorlist ~ input");
    var details = field && field.closest("details");
    if (details) { details.open = true; }
    var target = summary || field;
    if (!target) { return; }
    target.scrollIntoView({ block: "center" });
    if (summary) { summary.focus(); } else { field.focus(); }
  }

  // One click, one submit: a form's buttons wait while it is on its way (htmx forms use hx-disabled-elt).
  function bindSingleSubmit(root) {
    root.querySelectorAll("form[method=post]:not([hx-post])").forEach(function (form) {
      if (!once(form, "Single")) { return; }
      form.addEventListener("submit", function (event) {
        if (event.defaultPrevented) { return; }
        if (form.dataset.submitting === "1") { event.preventDefault(); return; }
        form.dataset.submitting = "1";
        form.setAttribute("aria-busy", "true");
      });
    });
  }
  window.addEventListener("pageshow", function () {
    document.querySelectorAll("form[data-submitting]").forEach(function (form) {
      form.dataset.submitting = "";
      form.removeAttribute("aria-busy");
    });
  });

  // A product picture that does not load becomes the placeholder (the product's first character).
  document.addEventListener("error", function (event) {
    var img = event.target;
    if (!img || img.tagName !== "IMG" || !img.hasAttribute("data-thumb")) { return; }
    var box = document.createElement("span");
    box.className = img.className;
    box.setAttribute("aria-hidden", "true");
    img.replaceWith(box);
  }, true);

  // A box that scrolls sideways (a wide table on a phone) can be reached and scrolled with the keyboard.
  function focusableScrollers(root) {
    root.querySelectorAll(".table-wrap, .results, .sh-table").forEach(function (box) {
      if (box.scrollWidth > box.clientWidth + 1 && !box.hasAttribute("tabindex")) {
        box.setAttribute("tabindex", "0");
      }
    });
  }

  function bindAll(root) {
    focusableScrollers(root);
    bindSingleSubmit(root);
    bindAutosubmit(root);
    bindPhotoInputs(root);
    bindConfirms(root);
    bindCaseForm(root);
  }

  // Live regions: a region someone is working in (focus, typed text, ticked boxes, an open dialog) is not
  // replaced; the poller then keeps its old version, so the next poll brings the change again.
  var liveSkipped = false;
  function busy(region) {
    if (document.querySelector("dialog[open]")) { return true; }
    var active = document.activeElement;
    if (active && active !== document.body && region.contains(active) && active.matches("input, textarea, select")) {
      return true;
    }
    return Array.prototype.some.call(region.querySelectorAll("input, textarea, select"), function (el) {
      if (el.type === "hidden" || el.type === "submit") { return false; }
      if (el.type === "checkbox" || el.type === "radio") { return el.checked !== el.defaultChecked; }
      if (el.tagName === "SELECT") {
        return Array.prototype.some.call(el.options, function (o) { return o.selected !== o.defaultSelected; });
      }
      return el.type !== "file" ? el.value !== el.defaultValue : el.files && el.files.length > 0;
    });
  }
  function bindLive() {
    document.body.addEventListener("htmx:oobBeforeSwap", function (event) {
      var target = event.detail.target;
      if (!target) { return; }
      if (target.id === "live-poller") {
        if (liveSkipped) { liveSkipped = false; event.preventDefault(); }
        return;
      }
      var details = target.querySelectorAll("details[open]");
      if (busy(target)) { liveSkipped = true; event.preventDefault(); return; }
      // keep open <details> open in the new content
      var open = Array.prototype.map.call(details, function (d) { return d.id || d.querySelector("summary").textContent; });
      event.detail.fragment && event.detail.fragment.querySelectorAll && event.detail.fragment.querySelectorAll("details").forEach(function (d) {
        var key = d.id || (d.querySelector("summary") || {}).textContent;
        if (open.indexOf(key) >= 0) { d.open = true; }
      });
    });
    document.body.addEventListener("htmx:load", function (event) { bindAll(event.target); });
  }

  onReady(function () {
    bindAll(document);
    bindLive();
    showFirstError();
    tickCountdowns();
    window.setInterval(tickCountdowns, 1000);
    document.body.addEventListener("htmx:afterSwap", function (event) { bindAll(event.target); });
  });
})();
