/* Customer status page extras (no inline script: CSP). live.js does the live updates; here:
 * - the tab title follows the live block (the called number shows even in a background tab);
 * - the PIN field keeps digits only (phones may paste "123 456" from an SMS). */
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
})();
