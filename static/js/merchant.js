/* Merchant desk enhancements, bound by data- attributes (no inline scripts). */
(function () {
  "use strict";
  function onReady(fn) {
    if (document.readyState !== "loading") { fn(); } else { document.addEventListener("DOMContentLoaded", fn); }
  }
  function bind(root) {
    // <input data-select-all="ids">: (un)check every checkbox named "ids" in the same form.
    root.querySelectorAll("input[data-select-all]").forEach(function (box) {
      if (box.dataset.bound) { return; }
      box.dataset.bound = "1";
      var form = box.form;
      var name = box.dataset.selectAll;
      var counter = form ? form.querySelector("[data-selected-count]") : null;
      function boxes() { return form ? form.querySelectorAll('input[type=checkbox][name="' + name + '"]') : []; }
      function update() {
        var n = 0;
        boxes().forEach(function (b) { if (b.checked) { n += 1; } });
        if (counter) { counter.textContent = n ? (document.documentElement.lang === "en" ? n + " selected" : "已选 " + n + " 单") : ""; }
      }
      box.addEventListener("change", function () {
        boxes().forEach(function (b) { b.checked = box.checked; });
        update();
      });
      if (form) { form.addEventListener("change", function (e) { if (e.target.name === name) { update(); } }); }
      update();
    });
    // <select data-template-target="id">: insert the chosen reply template's body into the textarea.
    root.querySelectorAll("select[data-template-target]").forEach(function (sel) {
      if (sel.dataset.bound) { return; }
      sel.dataset.bound = "1";
      sel.addEventListener("change", function () {
        var option = sel.options[sel.selectedIndex];
        var target = document.getElementById(sel.dataset.templateTarget);
        if (!option || !option.dataset.body || !target) { return; }
        target.value = target.value ? target.value + "\n" + option.dataset.body : option.dataset.body;
        target.focus();
        sel.selectedIndex = 0;
      });
    });
  }
  onReady(function () { bind(document); });
  document.addEventListener("htmx:afterSwap", function (e) { bind(e.target); });
})();
