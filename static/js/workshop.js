/* Workshop screens: a live refresh must not wipe what someone is typing or ticking.
 * While a form of the live block was changed in the last minute (or a field has focus), the
 * block's refetch waits and is tried again a little later; submitting replaces the block anyway. */
(function () {
  "use strict";
  var HOLD_MS = 60000;
  function busy(root) {
    var active = document.activeElement;
    if (active && root.contains(active) && /^(INPUT|TEXTAREA|SELECT)$/.test(active.tagName) && active.type !== "hidden") {
      return true;
    }
    var now = Date.now();
    return Array.prototype.some.call(root.querySelectorAll("form[data-edited]"), function (f) {
      return now - Number(f.dataset.edited) < HOLD_MS;
    });
  }
  function mark(evt) {
    var form = evt.target.closest && evt.target.closest("[data-live-guard] form");
    if (form) { form.dataset.edited = String(Date.now()); }
  }
  document.addEventListener("input", mark);
  document.addEventListener("change", mark);
  document.body.addEventListener("htmx:beforeRequest", function (evt) {
    var elt = evt.detail.elt;
    if (!elt || !elt.hasAttribute("data-live-guard") || evt.detail.requestConfig.verb !== "get") { return; }
    if (busy(elt)) {
      evt.preventDefault();
      if (!elt.dataset.retry) {
        elt.dataset.retry = "1";
        setTimeout(function () { delete elt.dataset.retry; htmx.trigger(document.body, "live:refresh"); }, 3000);
      }
    }
  });
})();
