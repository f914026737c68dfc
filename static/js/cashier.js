/* The cashier's payment form: the change to give back, shown while the cash tendered is typed
 * (the server computes the same on recording: applied = min(tendered, amount, balance)).
 * Delegated on the document, so it keeps working after every HTMX swap of the panel. */
(function () {
  "use strict";
  // The browser's CLDR formatter spells the yuan as the server's Babel filter does (¥ / CN¥).
  var money = new Intl.NumberFormat(document.documentElement.lang || "zh-CN", { style: "currency", currency: "CNY" });
  function cents(text) {
    var t = String(text || "").replace(/[,¥￥\sA-Z]/g, "");
    if (!/^\d+(\.\d{1,2})?$/.test(t)) { return null; }
    var parts = t.split(".");
    return parseInt(parts[0], 10) * 100 + (parts[1] ? parseInt((parts[1] + "0").slice(0, 2), 10) : 0);
  }
  function show(form) {
    var out = form.querySelector("[data-change]");
    if (!out) { return; }
    var balance = cents(form.dataset.balance);
    var amount = cents(form.querySelector("[data-pay-amount]").value);
    var tenderedText = form.querySelector("[data-pay-tendered]").value;
    var tendered = tenderedText.trim() ? cents(tenderedText) : amount;
    if (balance === null || tendered === null) { out.textContent = "—"; return; }
    var applied = Math.min(tendered, amount === null ? balance : amount, balance);
    var change = Math.max(0, tendered - applied);
    out.textContent = money.format(change / 100);
    out.dataset.cents = String(change);
  }
  document.addEventListener("input", function (e) {
    var form = e.target.closest && e.target.closest("[data-pay-form]");
    if (form) { show(form); }
  });
  document.addEventListener("change", function (e) {
    var form = e.target.closest && e.target.closest("[data-pay-form]");
    if (form) { show(form); }
  });
  document.body.addEventListener("htmx:afterSettle", function () {
    var form = document.querySelector("[data-pay-form]");
    if (form) { show(form); }
  });
})();

