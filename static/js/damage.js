/* Damage map on the visit page (templates/advisor/visit/damage.html).
 *
 * Tapping a zone of the interactive car map (templates/intake/car_map.html), or Enter/Space on
 * a focused zone, selects it: the zone is highlighted, its name shown in the add-mark form and
 * its id put in the form's hidden "zone" input. Pointing at a mark in the list highlights its
 * badge on the map. Listeners sit on the document, so sections swapped in by HTMX just work. */
(function () {
  "use strict";

  var ZONE = ".carmap--interactive [data-zone]";

  function editorOf(el) {
    return el.closest("[data-damage-editor]");
  }

  function choose(zoneEl) {
    var editor = editorOf(zoneEl);
    if (!editor) { return; }
    var zone = zoneEl.getAttribute("data-zone");
    editor.querySelectorAll(".carmap--interactive .cm-zone.is-selected").forEach(function (el) {
      el.classList.remove("is-selected");
      el.setAttribute("aria-pressed", "false");
    });
    zoneEl.classList.add("is-selected");
    zoneEl.setAttribute("aria-pressed", "true");
    editor.setAttribute("data-selected-zone", zone);

    var input = editor.querySelector("input[data-zone-input]");
    if (input) {
      input.value = zone;
      input.dispatchEvent(new Event("input", { bubbles: true }));   // the person's choice: a refresh keeps it
    }
    var name = editor.querySelector("[data-zone-name]");
    if (name) {
      var title = zoneEl.querySelector("title");
      name.textContent = title ? title.textContent : zone;
      name.classList.add("has-zone");
      var field = name.closest(".field");
      if (field && field.classList.contains("has-error")) {
        field.classList.remove("has-error");
        var message = field.querySelector(".error");
        if (message) { message.remove(); }
      }
    }
  }

  // A refresh merges the section from the server (morph): the chosen zone stays in its field
  // (static/js/live.js), its highlight and name on the map are drawn again from it.
  document.addEventListener("htmx:afterSettle", function () {
    document.querySelectorAll("[data-damage-editor]").forEach(function (editor) {
      var input = editor.querySelector("input[data-zone-input]");
      var zoneEl = input && input.value && editor.querySelector('.carmap--interactive [data-zone="' + input.value + '"]');
      if (zoneEl && !zoneEl.classList.contains("is-selected")) { choose(zoneEl); }
    });
  });

  document.addEventListener("click", function (e) {
    var zone = e.target.closest ? e.target.closest(ZONE) : null;
    if (zone) { choose(zone); }
  });

  document.addEventListener("keydown", function (e) {
    if (e.key !== "Enter" && e.key !== " " && e.key !== "Spacebar") { return; }
    var zone = e.target.closest ? e.target.closest(ZONE) : null;
    if (!zone) { return; }
    e.preventDefault();
    choose(zone);
  });

  // The photo picker is a button (the file input is visually hidden): show what was chosen.
  document.addEventListener("change", function (e) {
    var input = e.target;
    if (!input.matches || !input.matches("input[data-file-input]")) { return; }
    var name = input.parentNode.querySelector("[data-file-name]");
    if (!name) { return; }
    if (!name.hasAttribute("data-empty")) { name.setAttribute("data-empty", name.textContent); }
    var file = input.files && input.files[0];
    name.textContent = file ? file.name : name.getAttribute("data-empty");
    name.classList.toggle("has-file", !!file);
  });

  // After a refused save (422), put the focus on the field the message is about. The event
  // fires on the new section (e.target); e.detail.target is the replaced, detached one.
  document.addEventListener("htmx:afterSwap", function (e) {
    var section = e.target;
    if (!section || section.id !== "sec-damage" || !e.detail.xhr || e.detail.xhr.status !== 422) { return; }
    var field = section.querySelector("input[aria-invalid='true'], .kinds[aria-invalid='true'] input");
    if (field) { field.focus(); }
  });

  function highlight(e, on) {
    var item = e.target.closest ? e.target.closest("[data-mark-label]") : null;
    if (!item) { return; }
    var editor = editorOf(item);
    if (!editor) { return; }
    var badge = editor.querySelector('.cm-mark[data-mark="' + item.getAttribute("data-mark-label") + '"]');
    if (badge) { badge.classList.toggle("is-highlighted", on); }
  }
  document.addEventListener("mouseover", function (e) { highlight(e, true); });
  document.addEventListener("mouseout", function (e) { highlight(e, false); });
  document.addEventListener("focusin", function (e) { highlight(e, true); });
  document.addEventListener("focusout", function (e) { highlight(e, false); });
})();
