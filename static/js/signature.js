/* The customer's signature on the intake form (visit page, section #sec-signature).
 *
 * Every <canvas data-signature-pad> becomes a SignaturePad (static/vendor/signature_pad, touch,
 * stylus and mouse). The drawing goes, as a PNG data URL, into the form's hidden
 * [data-signature-input] after each stroke and again when htmx builds the request
 * (htmx:configRequest), so the post always carries what is on the screen; an empty box sends ""
 * and the server answers 422 with a message next to the box.
 *
 * The section is merged anew after saves elsewhere on the page (out of band in their answer) and on live
 * hints; refreshes are merged (morph) and leave the canvas alone (static/js/live.js), so a
 * drawing in progress stays. If the signed content changed meanwhile (content_hash), the customer
 * must see it again and re-sign: the drawing is cleared. New pads are set up on htmx:load.
 * No inline script and no eval (CSP). */
(function () {
  "use strict";
  if (typeof window.SignaturePad === "undefined") { return; }

  function ratio() { return Math.max(window.devicePixelRatio || 1, 1); }

  function formOf(canvas) { return canvas.closest("form"); }

  function hashOf(form) {
    var field = form && form.querySelector("input[name=content_hash]");
    return field ? field.value : "";
  }

  /* Size the drawing buffer to the displayed size × device pixels, keeping what is drawn. */
  function fit(canvas) {
    var pad = canvas.signaturePad;
    var width = canvas.offsetWidth, height = canvas.offsetHeight;
    if (!pad || !width || !height) { return; }
    var r = ratio();
    if (canvas.width === Math.round(width * r) && canvas.height === Math.round(height * r)) { return; }
    var data = pad.toData();
    canvas.width = Math.round(width * r);
    canvas.height = Math.round(height * r);
    canvas.getContext("2d").scale(r, r);
    pad.clear();
    if (data.length) { pad.fromData(data); }
  }

  function setup(canvas) {
    if (canvas.signaturePad) { return; }
    var form = formOf(canvas);
    var input = form && form.querySelector("[data-signature-input]");
    // The pad owns its geometry: full width, the height given in the markup (CSS may override).
    canvas.style.width = "100%";
    canvas.style.height = (canvas.getAttribute("height") || "200") + "px";
    var pad = new window.SignaturePad(canvas, {
      minWidth: 0.9, maxWidth: 2.8, penColor: "#10243f", backgroundColor: "rgba(0,0,0,0)"
    });
    canvas.signaturePad = pad;
    fit(canvas);

    function sync() {
      if (input) { input.value = pad.isEmpty() ? "" : pad.toDataURL("image/png"); }
      canvas.dataset.empty = pad.isEmpty() ? "true" : "false";
    }
    pad.addEventListener("endStroke", sync);
    pad.addEventListener("beginStroke", function () {
      if (pad.isEmpty()) { canvas.signedHash = hashOf(formOf(canvas)); }
    });
    canvas.addEventListener("signature:cleared", sync);
    sync();

    var clear = form && form.querySelector("[data-signature-clear]");
    if (clear) {
      clear.addEventListener("click", function () { pad.clear(); sync(); });
    }
    if (form) {
      form.addEventListener("htmx:configRequest", function (e) {
        if (e.target !== form) { return; }
        sync();
        e.detail.parameters.signature = input ? input.value : "";
      });
    }
  }

  function scan(root) {
    if (!root || !root.querySelectorAll) { return; }
    if (root.matches && root.matches("canvas[data-signature-pad]")) { setup(root); }
    Array.prototype.forEach.call(root.querySelectorAll("canvas[data-signature-pad]"), setup);
  }

  // A drawing signs what was on screen when it began: if a refresh changed that, start again.
  document.body.addEventListener("htmx:afterSettle", function () {
    Array.prototype.forEach.call(document.querySelectorAll("canvas[data-signature-pad]"), function (canvas) {
      var pad = canvas.signaturePad;
      if (pad && !pad.isEmpty() && canvas.signedHash && canvas.signedHash !== hashOf(formOf(canvas))) {
        pad.clear();
        canvas.dispatchEvent(new Event("signature:cleared"));
      }
    });
  });
  document.body.addEventListener("htmx:load", function (e) { scan(e.detail && e.detail.elt); });

  var resizeTimer = null;
  window.addEventListener("resize", function () {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(function () {
      Array.prototype.forEach.call(document.querySelectorAll("canvas[data-signature-pad]"), fit);
    }, 150);
  });

  scan(document.body);
})();
