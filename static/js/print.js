/* Printed intake form: the on-screen "Print" button (no inline handlers: CSP). */
(function () {
  "use strict";
  var buttons = document.querySelectorAll("[data-print]");
  Array.prototype.forEach.call(buttons, function (button) {
    button.addEventListener("click", function () { window.print(); });
  });
})();
