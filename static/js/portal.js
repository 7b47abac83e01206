/* Shouhou portal: small progressive enhancements. No inline scripts: behaviour hangs on data- attributes. */
(function () {
  "use strict";
  function onReady(fn) {
    if (document.readyState !== "loading") { fn(); } else { document.addEventListener("DOMContentLoaded", fn); }
  }
  // <select data-autosubmit>: submit its form on change (the language switcher).
  function bindAutosubmit(root) {
    root.querySelectorAll("select[data-autosubmit]").forEach(function (el) {
      if (el.dataset.bound) { return; }
      el.dataset.bound = "1";
      el.addEventListener("change", function () { if (el.form) { el.form.submit(); } });
    });
  }
  onReady(function () { bindAutosubmit(document); });
})();
