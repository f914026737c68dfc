/* Roll paper (80 mm thermal receipts): the printed page must end where the content ends.
 *
 * CSS cannot say "as long as it needs" for a page (Chromium ignores `size: 80mm auto` and falls
 * back to the paper's default length), so measure the content under the print rules — their
 * @media switched to "all" for one synchronous layout, never painted — and set the page height
 * through the CSSOM (our CSP forbids inline <style>, not insertRule on our own sheet).
 * Use: <article data-roll-paper="80"> on a page that loads this script. */
(function () {
  "use strict";
  var MIN_MM = 60;
  var rules = [];

  function printRules() {
    var found = [];
    Array.prototype.forEach.call(document.styleSheets, function (sheet) {
      var list;
      try { list = sheet.cssRules; } catch (e) { return; }   // another origin: not ours
      Array.prototype.forEach.call(list, function (r) {
        if (r.media && r.media.mediaText === "print") { found.push(r); }
      });
    });
    return found;
  }

  function fit(content) {
    var widthMm = parseFloat(content.getAttribute("data-roll-paper")) || 80;
    var media = printRules();
    media.forEach(function (r) { r.media.mediaText = "all"; });
    var mm = Math.ceil(content.getBoundingClientRect().height * 25.4 / 96) + 2;
    media.forEach(function (r) { r.media.mediaText = "print"; });
    var sheet = content.ownerDocument.styleSheets[0];
    rules.forEach(function (old) {
      var i = Array.prototype.indexOf.call(sheet.cssRules, old);
      if (i >= 0) { sheet.deleteRule(i); }
    });
    var at = sheet.insertRule("@page { size: " + widthMm + "mm " + Math.max(mm, MIN_MM) + "mm; margin: 0; }",
                              sheet.cssRules.length);
    rules = [sheet.cssRules[at]];
    content.setAttribute("data-page-mm", String(Math.max(mm, MIN_MM)));
  }

  function fitAll() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-roll-paper]"), fit);
  }

  // Fit once the fonts have laid the text out (a PDF or a ?print=1 may come at once), and again
  // right before any print, in case the window changed since.
  (document.fonts && document.fonts.ready ? document.fonts.ready : Promise.resolve()).then(fitAll);
  window.addEventListener("beforeprint", fitAll);
})();
