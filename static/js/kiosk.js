/* Lobby kiosk: on-screen keyboards, idle / ticket timers, automatic ticket printing, htmx glue.
 *
 * Screens arrive as #kiosk (whole page or htmx swap). Settings come from <body data-kiosk-*>:
 *   data-kiosk-idle / data-kiosk-ticket  seconds before returning to the start
 *   data-kiosk-home                      where "start" is (also resets the language)
 *   data-kiosk-autoprint="0"             never call window.print() by itself (tests, desk PCs)
 * and from the screen: data-kiosk-timeout = idle | ticket | lang | none, data-kiosk-print="auto".
 * A real keyboard keeps working everywhere: the on-screen keys only add to the same inputs. */
(function () {
  "use strict";
  var body = document.body;
  var cfg = body.dataset;
  var timer = null;
  var deadline = 0;

  function $(sel, root) { return (root || document).querySelector(sel); }
  function $$(sel, root) { return Array.prototype.slice.call((root || document).querySelectorAll(sel)); }
  function screen() { return document.getElementById("kiosk"); }

  // ------------------------------------------------------------ on-screen keyboards

  function targetOf(osk) { return document.getElementById(osk.dataset.oskTarget); }
  function oskFor(field) {
    var scope = field.form || screen() || document;
    return $('.osk[data-osk-target="' + field.id + '"]', scope);
  }
  function dockOf(osk) { return osk ? osk.closest("[data-osk-dock]") : null; }

  function setPanel(osk, name) {
    $$("[data-osk-panel]", osk).forEach(function (p) { p.hidden = p.dataset.oskPanel !== name; });
    osk.dataset.oskPanelShown = name;
  }
  function syncPanel(osk) {
    if (osk.dataset.osk !== "plate") { return; }
    var field = targetOf(osk);
    setPanel(osk, field && field.value.trim() ? "alnum" : "province");
  }

  // The walk-in form docks its keyboards in a bottom sheet; show the one of the active field.
  function activate(field) {
    var osk = oskFor(field);
    if (!osk) { return; }
    $$("[data-osk-field]", field.form || document).forEach(function (f) { f.classList.toggle("is-active", f === field); });
    var dock = dockOf(osk);
    if (dock) {
      $$(".osk", dock).forEach(function (o) { o.hidden = o !== osk; });
      dock.hidden = false;
      body.classList.add("osk-open");
    }
    syncPanel(osk);
  }
  function closeDock(dock) {
    if (!dock || dock.hidden) { return; }
    dock.hidden = true;
    body.classList.remove("osk-open");
    $$("[data-osk-field].is-active").forEach(function (f) { f.classList.remove("is-active"); });
  }

  function changed(field) {
    field.dispatchEvent(new Event("input", { bubbles: true }));
  }

  // A plate starts with one province character: a province key on the prefix the kiosk filled in
  // (the site's usual 京A) starts over from that province; on a plate typed so far it swaps the
  // first character instead of adding a second.
  var PROVINCE = /^[\u4e00-\u9fff]/;
  function press(osk, key, isProvince) {
    var field = targetOf(osk);
    if (!field) { return; }
    var max = parseInt(osk.dataset.oskMax || field.getAttribute("maxlength") || "20", 10);
    if (isProvince && field.value === field.dataset.oskPrefill) {
      field.value = key;                               // another province: the city letter too may differ
    } else if (isProvince && PROVINCE.test(field.value)) {
      field.value = key + field.value.slice(1);
    } else {
      if (field.value.length >= max) { return; }
      field.value += key;
    }
    changed(field);
    if (osk.dataset.osk === "plate" && osk.dataset.oskPanelShown === "province") { setPanel(osk, "alnum"); }
    field.focus({ preventScroll: true });
    // The walk-in's mobile keypad moves on by itself once the number is complete.
    if (osk.hasAttribute("data-osk-auto-next") && field.value.length >= max) { action(osk, "next"); }
  }

  // A field holding only the prefix the kiosk filled in counts as not yet typed.
  function untouched(field) { return !field.value || field.value === (field.dataset.oskPrefill || null); }

  function action(osk, name) {
    var field = targetOf(osk);
    if (!field) { return; }
    if (name === "backspace") {
      field.value = field.value.slice(0, -1);
      changed(field);
      syncPanel(osk);
    } else if (name === "clear") {
      field.value = "";
      changed(field);
      syncPanel(osk);
    } else if (name === "province" || name === "alnum") {
      setPanel(osk, name);
    } else if (name === "next") {
      var next = document.getElementById(field.dataset.oskNext || "");
      if (next && next.hasAttribute("data-osk-field")) {
        next.focus({ preventScroll: true });
        activate(next);
      } else {
        closeDock(dockOf(osk));
        var goal = next ? (next.closest("fieldset") || next) : null;
        if (goal) { goal.scrollIntoView({ behavior: "smooth", block: "start" }); }
      }
      return;
    }
    field.focus({ preventScroll: true });
  }

  // Keys must not take the focus away from the field (a real keyboard keeps typing into it).
  document.addEventListener("mousedown", function (e) {
    if (e.target.closest(".osk .key, .chip")) { e.preventDefault(); }
  });

  document.addEventListener("click", function (e) {
    var key = e.target.closest("[data-key]");
    var act = e.target.closest("[data-osk-action]");
    var osk = e.target.closest(".osk");
    if (osk && key) { press(osk, key.dataset.key, !!key.closest('[data-osk-panel="province"]')); return; }
    if (osk && act) { action(osk, act.dataset.oskAction); return; }
    var field = e.target.closest("[data-osk-field]");
    if (field) { activate(field); return; }
    var chip = e.target.closest("[data-chip]");
    if (chip) { toggleChip(chip); return; }
    if (e.target.closest("[data-kiosk-print-now]")) { window.print(); return; }
    var toast = e.target.closest("#kiosk-toast");
    if (toast) { toast.hidden = true; return; }
    // A tap anywhere else closes the keyboard sheet (like a phone's keyboard).
    if (!osk && !e.target.closest(".k-lang")) { $$("[data-osk-dock]").forEach(closeDock); }
  });

  document.addEventListener("focusin", function (e) {
    var field = e.target.closest && e.target.closest("[data-osk-field]");
    if (field) { activate(field); }
  });

  document.addEventListener("input", function (e) {
    var field = e.target;
    if (field.matches && field.matches('[data-osk-field="plate"]')) {
      var osk = oskFor(field);
      if (osk && (!field.value || osk.dataset.oskPanelShown === "province")) { syncPanel(osk); }
    }
    if (field.id === "description") { syncChips(field.form); }
  });

  // Search by plate or by mobile: the tab shows its own input and keyboard.
  document.addEventListener("change", function (e) {
    if (e.target.name === "by" || e.target.name === "proof_by") {
      var panel = $(".k-by-" + e.target.value, e.target.form);
      var input = panel && $("[data-osk-field]", panel);
      if (input) { input.focus({ preventScroll: true }); syncPanel(oskFor(input)); }
    }
  });

  // ------------------------------------------------------------ description chips

  var SEP = /[，,;；、]\s*/;
  function phrases(text) { return text.split(SEP).map(function (s) { return s.trim(); }).filter(Boolean); }
  function separator() { return document.documentElement.lang.indexOf("zh") === 0 ? "，" : ", "; }

  function toggleChip(chip) {
    var area = chip.form ? chip.form.elements.description : document.getElementById("description");
    if (!area) { return; }
    var list = phrases(area.value);
    var i = list.indexOf(chip.dataset.chip);
    if (i >= 0) { list.splice(i, 1); } else { list.push(chip.dataset.chip); }
    area.value = list.join(separator()).slice(0, 500);
    syncChips(area.form);
  }
  function syncChips(form) {
    var area = form && form.elements.description;
    if (!area) { return; }
    var list = phrases(area.value);
    $$("[data-chip]", form).forEach(function (c) {
      c.setAttribute("aria-pressed", list.indexOf(c.dataset.chip) >= 0 ? "true" : "false");
    });
  }

  // ------------------------------------------------------------ back to the start

  function goHome() {
    clearInterval(timer);
    timer = null;
    window.location.assign(cfg.kioskHome || "/kiosk");
  }

  function secondsFor(s) {
    var mode = s ? s.dataset.kioskTimeout : "none";
    if (mode === "ticket") { return parseInt(cfg.kioskTicket, 10) || 20; }
    if (mode === "idle") { return parseInt(cfg.kioskIdle, 10) || 60; }
    // The start screen in another language drifts back to the default language for the next customer.
    if (mode === "lang" && s.dataset.lang !== cfg.kioskDefaultLang) { return parseInt(cfg.kioskIdle, 10) || 60; }
    return 0;
  }

  // A screen someone was filling in is not cleared behind their back: first "Still there?" with a
  // countdown; a tap anywhere (or the button) keeps everything as it was.
  var asking = false;
  function stillThere() { return document.getElementById("still-there"); }

  function ask() {
    asking = true;
    deadline = Date.now() + (parseInt(cfg.kioskAsk, 10) || 15) * 1000;
    var dialog = stillThere();
    if (dialog) {
      dialog.hidden = false;
      var button = dialog.querySelector("[data-kiosk-still-here]");
      if (button) { button.focus(); }
    }
  }

  function tick() {
    var left = Math.max(0, Math.ceil((deadline - Date.now()) / 1000));
    var target = asking ? "[data-kiosk-ask-countdown]" : "[data-kiosk-countdown]";
    $$(target).forEach(function (el) { el.textContent = String(left); });
    if (left > 0) { return; }
    var s = screen();
    if (!asking && s && s.dataset.kioskTimeout === "idle" && stillThere()) { ask(); tick(); return; }
    goHome();
  }

  function arm() {
    clearInterval(timer);
    timer = null;
    asking = false;
    if (stillThere()) { stillThere().hidden = true; }
    var secs = secondsFor(screen());
    if (!secs) { return; }
    deadline = Date.now() + secs * 1000;
    tick();
    timer = setInterval(tick, 1000);
  }

  // Any touch, key or typing means someone is there: start the count again.
  ["pointerdown", "keydown", "input", "touchstart"].forEach(function (name) {
    document.addEventListener(name, function () { if (timer) { arm(); } }, { capture: true, passive: true });
  });

  // ------------------------------------------------------------ printing

  // Thermal paper is a roll: the page should be as long as the ticket. Chromium ignores
  // "size: 80mm auto", so measure the ticket under the print rules (their @media switched to
  // "all" for one synchronous layout, never painted) and set the page height through the CSSOM.
  var pageRule = null;
  function fitPage() {
    var ticket = document.getElementById("ticket");
    var sheet = null;
    var printRule = null;
    Array.prototype.forEach.call(document.styleSheets, function (sh) {
      if (!sh.href || sh.href.indexOf("kiosk.css") < 0) { return; }
      sheet = sh;
      Array.prototype.forEach.call(sh.cssRules, function (r) {
        if (r.media && r.media.mediaText === "print") { printRule = r; }
      });
    });
    if (!ticket || !sheet || !printRule) { return; }
    printRule.media.mediaText = "all";
    var mm = Math.ceil(ticket.getBoundingClientRect().height * 25.4 / 96) + 4;
    printRule.media.mediaText = "print";
    if (pageRule !== null) {
      var i = Array.prototype.indexOf.call(sheet.cssRules, pageRule);
      if (i >= 0) { sheet.deleteRule(i); }
    }
    var at = sheet.insertRule("@page { size: 80mm " + Math.max(mm, 60) + "mm; margin: 0; }", sheet.cssRules.length);
    pageRule = sheet.cssRules[at];
  }
  window.addEventListener("beforeprint", fitPage);

  // ------------------------------------------------------------ screens

  function autoprint(s) {
    var area = $('[data-kiosk-print="auto"]', s);
    if (!area || area.dataset.kioskPrinted || cfg.kioskAutoprint === "0") { return; }
    area.dataset.kioskPrinted = "1";
    // Let the ticket paint first; the launcher's --kiosk-printing prints without a dialog.
    setTimeout(function () { window.print(); }, 350);
  }

  function caretToEnd(field) {
    try { field.setSelectionRange(field.value.length, field.value.length); } catch (ignore) { /* type=tel */ }
  }

  function initScreen(s) {
    if (!s) { return; }
    if (s.dataset.lang) { document.documentElement.lang = s.dataset.lang; }
    window.scrollTo(0, 0);
    body.classList.remove("osk-open");
    $$(".osk", s).forEach(syncPanel);
    $$("form", s).forEach(syncChips);
    // Walk-in: the keyboard of the first field to fix (or the plate) is open and ready.
    var dock = $("[data-osk-dock]", s);
    if (dock) {
      // After bad input the sheet stays closed so every message is in view; a tap opens it.
      var fields = $$("[data-osk-field]", s);
      var invalid = $$('[aria-invalid="true"]', s).length > 0;
      var first = fields.filter(untouched)[0];
      if (first && !invalid) { first.focus({ preventScroll: true }); caretToEnd(first); activate(first); } else { dock.hidden = true; }
    } else {
      var visible = $$("[data-osk-field]", s).filter(function (f) { return f.offsetParent !== null; })[0];
      if (visible) { visible.focus({ preventScroll: true }); caretToEnd(visible); }
    }
    arm();
    autoprint(s);
  }

  // ------------------------------------------------------------ htmx

  function toast(text) {
    var t = document.getElementById("kiosk-toast");
    if (!t || !text) { return; }
    t.textContent = text;
    t.hidden = false;
    clearTimeout(t._hide);
    t._hide = setTimeout(function () { t.hidden = true; }, 8000);
  }

  if (typeof htmx !== "undefined") {
    htmx.config.historyCacheSize = 0; // never keep a screen (plates, PINs) in localStorage
    // Settling copies these attributes between old and new elements of the same id; a "style"
    // attribute written by script is an inline style, which the CSP (rightly) refuses.
    htmx.config.attributesToSettle = ["class", "width", "height"];
    htmx.onLoad(function (elt) {
      var s = elt.id === "kiosk" ? elt : (elt.querySelector ? elt.querySelector("#kiosk") : null);
      if (s) { initScreen(s); }
    });
    body.addEventListener("htmx:beforeSwap", function (e) {
      var xhr = e.detail.xhr;
      if (xhr.status < 400) { return; }
      if (/id="kiosk"/.test(xhr.responseText || "")) {
        // A kiosk screen answering 4xx (bad input, appointment gone…): show it like any other.
        e.detail.shouldSwap = true;
        e.detail.isError = false;
      } else {
        // A bare error (form expired, too many attempts…): a banner, the screen stays as it is.
        var div = document.createElement("div");
        div.innerHTML = xhr.responseText || "";
        toast((div.textContent || "").trim() || (document.getElementById("kiosk-toast") || {}).dataset.msgError);
      }
    });
    body.addEventListener("htmx:sendError", function () {
      var t = document.getElementById("kiosk-toast");
      toast(t && t.dataset.msgNetwork);
    });
  } else {
    document.addEventListener("DOMContentLoaded", function () { initScreen(screen()); });
  }
})();
