/* The customer's signature on the intake form (visit page, section #sec-signature).
 *
 * Every <canvas data-signature-pad> becomes a SignaturePad (static/vendor/signature_pad, touch,
 * stylus and mouse). The drawing goes, as a PNG data URL, into the form's hidden
 * [data-signature-input] after each stroke and again when htmx builds the request
 * (htmx:configRequest), so the post always carries what is on the screen; an empty box sends ""
 * and the server answers 422 with a message next to the box.
 *
 * The section is re-rendered by htmx after every save on the page (refresh-signature), so pads
 * are set up on htmx:load. A drawing in progress survives such a refresh as long as the form's
 * content hash is unchanged; if the form changed, the customer must see it again and re-sign.
 * No inline script and no eval (CSP). */
(function () {
  "use strict";
  if (typeof window.SignaturePad === "undefined") { return; }

  // The drawing of a signature section being swapped out: {hash, data, until}. The new section's
  // pad takes it if it shows the same form; other sections settling in between (one save
  // refreshes them all) must not lose it, so it simply expires after a few seconds.
  var kept = null;

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

    if (kept && kept.until > Date.now() && kept.hash === hashOf(form)) { pad.fromData(kept.data); }
    kept = null;
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

  document.body.addEventListener("htmx:beforeSwap", function (e) {
    var target = e.detail && e.detail.target;
    if (!target || !target.querySelector) { return; }
    var canvas = target.querySelector("canvas[data-signature-pad]");
    if (canvas && canvas.signaturePad && !canvas.signaturePad.isEmpty()) {
      kept = { hash: hashOf(formOf(canvas)), data: canvas.signaturePad.toData(), until: Date.now() + 5000 };
    }
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
