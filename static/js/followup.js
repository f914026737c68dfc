/* Follow-up and complaint screens (no inline script: CSP). live.js refreshes the lists; here:
 * - a form marked data-once sends once (a double click records one call, one note);
 * - the complaint summary shows when "open a case" is ticked on the call form. */
(function () {
  "use strict";
  document.body.addEventListener("submit", function (e) {
    var form = e.target;
    if (!form.matches || !form.matches("[data-once]")) { return; }
    if (form.dataset.sending === "true") { e.preventDefault(); return; }
    form.dataset.sending = "true";
    // The clicked button's name/value must still be sent: disable the buttons after this tick.
    setTimeout(function () {
      form.querySelectorAll("button[type=submit]").forEach(function (b) { b.disabled = true; });
    }, 0);
  });
  function syncComplaint() {
    document.querySelectorAll("[data-complaint-toggle]").forEach(function (box) {
      var wrap = box.closest(".fu-complaint");
      if (wrap) { wrap.classList.add("fu-js"); wrap.classList.toggle("is-on", box.checked); }
    });
  }
  document.body.addEventListener("change", function (e) {
    if (e.target.matches && e.target.matches("[data-complaint-toggle]")) { syncComplaint(); }
  });
  syncComplaint();
})();
