/* Visit page extras. Sections are server-rendered HTMX partials; this file only adds what
 * HTML cannot: nothing yet beyond focus handling after a refused save. */
(function () {
  "use strict";
  document.body.addEventListener("htmx:afterSwap", function (e) {
    var target = e.target;   // the new element; with outerHTML e.detail.target is the detached old one
    if (!target || !target.querySelector) { return; }
    var invalid = target.querySelector("[aria-invalid='true']");
    if (invalid && e.detail.xhr && e.detail.xhr.status === 422) { invalid.focus(); }
  });
})();
