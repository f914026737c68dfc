/* The cashier's payment form: the change to give back, shown while the cash tendered is typed
 * (the server computes the same on recording: applied = min(tendered, amount, balance)).
 * Delegated on the document, so it keeps working after every HTMX swap of the panel. */
(function () {
  "use strict";
  function cents(text) {
    var t = String(text || "").replace(/[,¥￥\s]/g, "");
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
    out.textContent = "¥" + (change / 100).toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
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

/* A live refetch must not land on top of an answer: while a form of the settlement section (or
 * the cashier's open bill) is being sent, and for a refetch sent before that, the refetched
 * block is not swapped in; it is asked again a moment later so the screen still ends right.
 * (The answer swaps into the block it was sent from, which therefore must stay on the page.) */
(function () {
  "use strict";
  var inflight = {};
  var acted = {};
  function rootOf(elt) { return elt && elt.closest ? elt.closest("[data-bill-live]") : null; }
  document.body.addEventListener("htmx:beforeRequest", function (evt) {
    var elt = evt.detail.elt;
    var root = rootOf(elt);
    if (!root) { return; }
    if (evt.detail.requestConfig.verb !== "get") {
      inflight[root.id] = (inflight[root.id] || 0) + 1;
      acted[root.id] = Date.now();
      evt.detail.xhr.billRoot = root.id;
    } else if (elt === root) {
      evt.detail.xhr.sentAt = Date.now();
    }
  });
  document.body.addEventListener("htmx:afterRequest", function (evt) {
    var id = evt.detail.xhr && evt.detail.xhr.billRoot;
    if (id) { inflight[id] = Math.max(0, (inflight[id] || 1) - 1); }
  });
  document.body.addEventListener("htmx:beforeSwap", function (evt) {
    var elt = evt.detail.elt;
    if (!elt || !elt.hasAttribute || !elt.hasAttribute("data-bill-live")) { return; }
    var sent = evt.detail.xhr && evt.detail.xhr.sentAt;
    if (!sent) { return; }
    if ((inflight[elt.id] || 0) > 0 || sent <= (acted[elt.id] || 0)) {
      evt.detail.shouldSwap = false;
      var name = elt.dataset.billLive;
      setTimeout(function () { htmx.trigger(document.body, name); }, 400);
    }
  });
})();
