/* Customer status page extras (no inline script: CSP). live.js does the live updates; here:
 * - the tab title follows the live block (the called number shows even in a background tab);
 * - the PIN field keeps digits only (phones may paste "123 456" from an SMS);
 * - the estimate's approval card: "approve all", one send per decision, and a new total asked
 *   of the server after a live refresh (the total of the taps is the server's, asked by the
 *   list's hx-get on each tap; the taps survive the live block's refreshes, static/js/live.js;
 *   the server refuses a decision on an older version);
 * - the rating stars and the survey send once;
 * - the queue: a "queue moved" message (webapp/realtime.queue_moved) refetches the live block
 *   only when this ticket is waiting and the ticket that left was ahead of it (data-ahead-numbers), or
 *   one was put ahead of it, or the server could not say which. */
(function () {
  "use strict";
  function placeMoved(msg) {
    var live = document.getElementById("status-live");
    if (!live || live.dataset.queue !== "waiting" || !msg || msg.event !== "queue.moved") { return false; }
    if (msg.left) { return (" " + (live.dataset.aheadNumbers || "") + " ").indexOf(" " + msg.left + " ") >= 0; }
    return true;
  }
  document.body.addEventListener("live:message", function (e) {
    if (e.detail.channel === "queue" && placeMoved(e.detail.msg)) { htmx.trigger(document.body, "live:position"); }
  });
  function syncTitle() {
    var live = document.getElementById("status-live");
    if (live && live.dataset.title) { document.title = live.dataset.title; }
  }
  document.body.addEventListener("htmx:afterSwap", syncTitle);
  syncTitle();

  var pin = document.getElementById("pin");
  if (pin) {
    pin.addEventListener("input", function () {
      var digits = pin.value.replace(/\D+/g, "").slice(0, 6);
      if (digits !== pin.value) { pin.value = digits; }
    });
  }

  // ---------------------------------------------------------------- approval card
  // The total is the server's: each tap asks for it (the list's hx-get, status.approval_total).
  function approvalForm() { return document.querySelector("[data-approve-form]"); }

  document.body.addEventListener("click", function (e) {
    var all = e.target.closest && e.target.closest("[data-approve-all]");
    if (all) {
      var form = all.closest("[data-approve-form]");
      form.querySelectorAll('input[type=radio][value="approved"]').forEach(function (r) {
        r.checked = true;
        // The person's choice (a refresh keeps it); the list asks for the total once (delay).
        r.dispatchEvent(new Event("change", { bubbles: true }));
      });
      return;
    }
    var toPin = e.target.closest && e.target.closest("[data-approval-pin]");
    var pinField = document.getElementById("pin");
    if (toPin && pinField) { setTimeout(function () { pinField.focus(); }, 0); }
  });
  document.body.addEventListener("submit", function (e) {
    var form = e.target;
    if (!form.matches || !form.matches("[data-approve-form]")) { return; }
    if (form.dataset.sending === "true") { e.preventDefault(); return; }   // a double tap sends once
    form.dataset.sending = "true";
    var button = form.querySelector("[data-approve-confirm]");
    if (button) { setTimeout(function () { button.disabled = true; }, 0); }
  });

  // The live block is merged (morph) on every hint: the taps stay (live.js) but its "You pay"
  // is drawn for no taps, so the form asks again for the total of the taps kept.
  document.body.addEventListener("htmx:afterSettle", function (e) {
    var form = approvalForm();
    var target = e.detail && e.detail.target;
    if (!form || !target || target.id !== "status-live") { return; }
    var list = form.querySelector("[data-approve-lines]");
    if (list && form.querySelector("input[type=radio]:checked")) { htmx.trigger(list, "change"); }
  });

  // ---------------------------------------------------------------- rating and survey
  // One tap sends once (the server also keeps the first rating only). The survey form carries
  // hx-preserve, so the answers being typed survive the live block's refreshes.
  document.body.addEventListener("submit", function (e) {
    var form = e.target;
    if (!form.matches || !form.matches("[data-rate-form], [data-survey-form]")) { return; }
    if (form.dataset.sending === "true") { e.preventDefault(); return; }
    form.dataset.sending = "true";
    setTimeout(function () {
      form.querySelectorAll("button[type=submit]").forEach(function (b) { b.disabled = true; });
    }, 0);
  });
})();
