/* Visit page extras. Sections are server-rendered HTMX partials; this file only adds what
 * HTML cannot: focus after a refused save, and the folds.
 *
 * Folds: each section is a <details class="fold" data-fold-key="section@state"
 * data-fold-default="open|closed"> (templates/advisor/visit/_macros.html). The server opens the
 * sections of the stage the visit is in; a person's own choice (a click on a summary, or a jump
 * from the stage strip or the step list) wins, for as long as the visit stays in that state
 * (the key names it), through live refreshes (morph keeps "open" as it is, static/js/live.js),
 * swaps that replace a section, and reloads (sessionStorage, per visit). When the visit moves
 * on, the keys change and the new stage's sections open by themselves. */
(function () {
  "use strict";
  var body = document.body;
  var STORE = "servicelane.folds." + (body.dataset.liveVisit || "");
  var choices = {};
  try { choices = JSON.parse(window.sessionStorage.getItem(STORE) || "{}") || {}; } catch (e) { choices = {}; }

  function remember(key, open) {
    choices[key] = open;
    try { window.sessionStorage.setItem(STORE, JSON.stringify(choices)); } catch (e) { /* private mode: this page only */ }
  }
  function apply(root) {
    Array.prototype.forEach.call((root || document).querySelectorAll("details.fold[data-fold-key]"), function (d) {
      var key = d.dataset.foldKey;
      var want = Object.prototype.hasOwnProperty.call(choices, key) ? choices[key] : d.dataset.foldDefault === "open";
      if (d.open !== want) { d.open = want; }
    });
  }
  function openTarget(hash) {
    var target = hash && hash.length > 1 ? document.getElementById(hash.slice(1)) : null;
    var fold = target ? target.querySelector("details.fold[data-fold-key]") : null;
    if (fold) {
      remember(fold.dataset.foldKey, true);
      fold.open = true;
    }
  }

  document.addEventListener("click", function (e) {
    var summary = e.target.closest ? e.target.closest("details.fold > summary") : null;
    if (summary) {
      // The click toggles after this handler: the choice is the opposite of the state now.
      remember(summary.parentElement.dataset.foldKey, !summary.parentElement.open);
      return;
    }
    var link = e.target.closest ? e.target.closest("a[href^='#']") : null;
    if (link) { openTarget(link.getAttribute("href")); }
  });
  body.addEventListener("htmx:afterSwap", function (e) {
    apply(document);
    var target = e.target;   // the new element; with outerHTML e.detail.target is the detached old one
    if (!target || !target.querySelector) { return; }
    var invalid = target.querySelector("[aria-invalid='true']");
    if (invalid && e.detail.xhr && e.detail.xhr.status === 422) {
      var fold = invalid.closest("details.fold");
      if (fold) { fold.open = true; }
      invalid.focus();
    }
  });
  apply(document);
  if (window.location.hash) { openTarget(window.location.hash); }
})();
