/* Customer status page extras (no inline script: CSP). live.js does the live updates; here:
 * - the tab title follows the live block (the called number shows even in a background tab);
 * - the PIN field keeps digits only (phones may paste "123 456" from an SMS);
 * - the estimate's approval card: the total the customer pays follows their taps, computed in
 *   integer fen from the server's amounts (data-fen, data-tax-bp, data-discount-fen, data-fee-fen)
 *   with the server's rounding (half up); their taps survive the live block's refreshes (morph,
 *   static/js/live.js) and the server refuses a decision on an older version;
 * - the rating stars and the survey send once. */
(function () {
  "use strict";
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
  // The browser's CLDR formatter spells the yuan as the server's Babel filter does (¥ / CN¥).
  var money = new Intl.NumberFormat(document.documentElement.lang || "zh-CN", { style: "currency", currency: "CNY" });
  function yuan(fen) { return money.format(fen / 100); }
  function halfUp(numerator, denominator) {   // round(n / d) half up, for n >= 0
    return Math.floor((2 * numerator + denominator) / (2 * denominator));
  }
  function int(value) { var n = parseInt(value, 10); return isNaN(n) ? 0 : n; }

  function recompute(form) {
    var lines = form.querySelectorAll("[data-line]");
    var decided = 0, approved = 0, subtotal = 0;
    lines.forEach(function (line) {
      var checked = line.querySelector("input[type=radio]:checked");
      line.dataset.choice = checked ? checked.value : "";
      if (!checked) { return; }
      decided += 1;
      if (checked.value === "approved") { approved += 1; subtotal += int(line.dataset.fen); }
    });
    var allDeclined = lines.length > 0 && decided === lines.length && approved === 0;
    if (allDeclined) { subtotal = int(form.dataset.feeFen); }   // decide() then bills the fee alone
    var taxable = subtotal - Math.min(int(form.dataset.discountFen), subtotal);
    var total = taxable + halfUp(taxable * int(form.dataset.taxBp), 10000);
    var out = form.querySelector("[data-approve-total]");
    if (out) { out.textContent = yuan(total); }
    var count = form.querySelector("[data-approve-count]");
    if (count) { count.textContent = String(decided); }
    form.dataset.complete = decided === lines.length ? "true" : "false";
    form.dataset.allDeclined = allDeclined ? "true" : "false";
  }
  function approvalForm() { return document.querySelector("[data-approve-form]"); }

  document.body.addEventListener("change", function (e) {
    var form = e.target.closest && e.target.closest("[data-approve-form]");
    if (form) { recompute(form); }
  });
  document.body.addEventListener("click", function (e) {
    var all = e.target.closest && e.target.closest("[data-approve-all]");
    if (all) {
      var form = all.closest("[data-approve-form]");
      form.querySelectorAll('input[type=radio][value="approved"]').forEach(function (r) {
        r.checked = true;
        r.dispatchEvent(new Event("change", { bubbles: true }));   // the person's choice: a refresh keeps it
      });
      recompute(form);
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

  // The live block is merged (morph) on every hint: the taps stay (live.js), the total follows them.
  document.body.addEventListener("htmx:afterSettle", function () {
    var form = approvalForm();
    if (form) { recompute(form); }
  });
  var initial = approvalForm();
  if (initial) { recompute(initial); }

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
