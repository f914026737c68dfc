/* Workshop screens: a live refresh must not wipe what someone is typing, opening or reading.
 * A block's refetch waits (and is tried again a moment later) while one of its fields has focus,
 * a form in it was changed or a <details> opened in the last minute, or someone acted in it just
 * now (so the answer and its message stay on screen). A refetch that was already on its way when
 * someone acted is not swapped in: it would land on top of the answer. */
(function () {
  "use strict";
  var HOLD_MS = 60000;
  var AFTER_ACTION_MS = 1500;
  var acted = {};      // block id -> time of the last action in it (blocks are replaced by answers)

  function recent(stamp, ms) { return Date.now() - Number(stamp || 0) < ms; }

  function busy(root) {
    var active = document.activeElement;
    if (active && root.contains(active) && /^(INPUT|TEXTAREA|SELECT)$/.test(active.tagName) && active.type !== "hidden") {
      return true;
    }
    if (recent(acted[root.id], AFTER_ACTION_MS)) { return true; }
    return Array.prototype.some.call(root.querySelectorAll("form[data-edited], details[open][data-opened]"), function (el) {
      return recent(el.dataset.edited || el.dataset.opened, HOLD_MS);
    });
  }
  function later(block) {
    if (block.dataset.retry) { return; }
    block.dataset.retry = "1";
    setTimeout(function () { delete block.dataset.retry; htmx.trigger(document.body, "live:refresh"); }, 1000);
  }
  function mark(evt) {
    var form = evt.target.closest && evt.target.closest("[data-live-guard] form");
    if (form) { form.dataset.edited = String(Date.now()); }
  }
  document.addEventListener("input", mark);
  document.addEventListener("change", mark);
  // The click on a summary counts at once: "toggle" comes a task later, and a refetch landing in
  // between would close the details the person just opened.
  document.addEventListener("click", function (evt) {
    var summary = evt.target.closest && evt.target.closest("[data-live-guard] details > summary");
    if (summary) {
      summary.parentElement.dataset.opened = String(Date.now());
      acted[summary.closest("[data-live-guard]").id] = Date.now();
    }
  }, true);
  document.addEventListener("toggle", function (evt) {   // toggle does not bubble: listen while capturing
    var details = evt.target;
    var block = details.tagName === "DETAILS" && details.open && details.closest("[data-live-guard]");
    if (block) {
      details.dataset.opened = String(Date.now());
      acted[block.id] = Date.now();
    }
  }, true);

  document.body.addEventListener("htmx:beforeRequest", function (evt) {
    var elt = evt.detail.elt;
    if (!elt) { return; }
    if (evt.detail.requestConfig.verb !== "get") {
      var block = elt.closest && elt.closest("[data-live-guard]");
      if (block) { acted[block.id] = Date.now(); }
      return;
    }
    if (!elt.hasAttribute("data-live-guard")) { return; }
    if (busy(elt)) {
      evt.preventDefault();
      later(elt);
    } else {
      evt.detail.xhr.sentAt = Date.now();
    }
  });
  document.body.addEventListener("htmx:beforeSwap", function (evt) {
    var elt = evt.detail.elt;
    if (!elt || !elt.hasAttribute || !elt.hasAttribute("data-live-guard") || evt.detail.requestConfig.verb !== "get") {
      return;
    }
    if (Number(acted[elt.id] || 0) >= Number(evt.detail.xhr.sentAt || 0) || busy(elt)) {
      evt.detail.shouldSwap = false;
      later(elt);
    }
  });
})();
