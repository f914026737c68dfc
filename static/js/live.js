/* Live updates for every surface, and the one rule that keeps what people enter.
 *
 * <body data-live-channel=".." data-live-site=".." data-live-token=".." data-live-visit="..">
 * joins the page's Socket.IO room (webapp/realtime.py lets it in only if it may). Each hint names
 * what changed; on <body> it fires "live:<topic>" for each of its topics (queue, intake,
 * estimate, job, bill, delivery, progress, followup) and "live:hint" once; every (re)connect,
 * and a server's "resync", fires "live:refresh": hints may be lost (at-most-once), the refetch
 * from the server is what makes screens right. Sections listen with
 * hx-trigger="live:estimate from:body, live:refresh from:body" and swap with "morph:…".
 * A "live:message" event carries the message itself for page extras (lobby chime, wall board).
 *
 * Morph swaps (idiomorph) merge the server's answer into the page instead of replacing it, and
 * here is what they leave alone, because it belongs to the person, not to the server:
 * - a field they typed into, ticked or chose (its value and checked state), until the form it
 *   belongs to is sent: the answer to that request is then the authority;
 * - a canvas (a signature being drawn);
 * - which <details> are open;
 * - for a few seconds, the message ([data-message]) an action answered with.
 * Sections that come out of band in an action's answer merge in like a refresh.
 * Requests carry the page's socket id (X-Live-Sid header, live_sid field of plain form posts):
 * the hint their change causes is not sent back to the page that already has the answer. */
(function () {
  "use strict";
  var body = document.body;
  var touched = new WeakSet();   // fields the person changed since their form was last sent

  function fieldsOf(el) {
    if (!el || !el.querySelectorAll) { return []; }
    var fields = Array.prototype.slice.call(el.querySelectorAll("input, textarea, select"));
    if (/^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName)) { fields.push(el); }
    return fields;
  }
  function touch(evt) {
    var field = evt.target;
    if (!field || !/^(INPUT|TEXTAREA|SELECT)$/.test(field.tagName)) { return; }
    touched.add(field);
    if (field.type === "radio" && field.form && field.name) {
      // Choosing one radio unchecks its siblings: they are the person's choice too.
      Array.prototype.forEach.call(field.form.querySelectorAll('input[type=radio]'), function (r) {
        if (r.name === field.name) { touched.add(r); }
      });
    }
  }
  document.addEventListener("input", touch, true);
  document.addEventListener("change", touch, true);
  // An answer to a form's own request is the authority for that form's fields.
  var refreshing = false;   // the swap under way answers a refresh (GET), not an action
  body.addEventListener("htmx:afterSwap", function () { refreshing = false; });
  body.addEventListener("htmx:beforeSwap", function (evt) {
    var cfg = evt.detail.requestConfig;
    refreshing = !!cfg && cfg.verb === "get";
    if (!cfg || cfg.verb === "get") { return; }
    var elt = evt.detail.elt;
    var form = elt && elt.closest ? (elt.closest("form") || elt) : null;
    fieldsOf(form).forEach(function (f) { touched.delete(f); });
  });
  // Sections an action's answer carries out of band (hx-swap-oob) are not that action's form:
  // they merge in like a refresh, keeping a message just shown there. htmx swaps them before
  // the answer's own target, whose swap is the action's again.
  var oobAfter = false;
  body.addEventListener("htmx:oobBeforeSwap", function () { oobAfter = refreshing; refreshing = true; });
  body.addEventListener("htmx:oobAfterSwap", function () { refreshing = oobAfter; });

  var PERSONAL = { value: 1, checked: 1, selected: 1 };
  var MESSAGE_MS = 5000;
  if (window.Idiomorph) {
    Idiomorph.defaults.ignoreActiveValue = true;
    Idiomorph.defaults.callbacks.beforeAttributeUpdated = function (name, node) {
      if (PERSONAL[name] && (touched.has(node) || (node.tagName === "OPTION" && node.parentElement && touched.has(node.closest("select"))))) {
        return false;
      }
      if (name === "open" && node.tagName === "DETAILS") { return false; }
      return true;
    };
    Idiomorph.defaults.callbacks.beforeNodeMorphed = function (oldNode) {
      return !(oldNode.tagName === "CANVAS");
    };
    // The message an action answered with stays a few seconds through refreshes landing just
    // after it, so the person can read it (its card may still leave, and takes it along).
    Idiomorph.defaults.callbacks.afterNodeAdded = function (node) {
      if (node.nodeType !== 1) { return; }
      var now = Date.now();
      if (node.hasAttribute("data-message")) { node.shownAt = now; }
      Array.prototype.forEach.call(node.querySelectorAll("[data-message]"), function (m) { m.shownAt = now; });
    };
    Idiomorph.defaults.callbacks.beforeNodeRemoved = function (node) {
      return !(refreshing && node.nodeType === 1 && node.hasAttribute("data-message") &&
               Date.now() - (node.shownAt || 0) < MESSAGE_MS);
    };
  }

  var channel = body.dataset.liveChannel;
  if (!channel || typeof io === "undefined") { return; }
  var banner = document.getElementById("live-banner");
  var auth = { channel: channel, site: body.dataset.liveSite || "", token: body.dataset.liveToken || "",
               visit: body.dataset.liveVisit || "" };
  var socket = io({ auth: auth, transports: ["websocket", "polling"], reconnectionDelayMax: 5000 });
  var pending = {};
  var timer = null;

  function fire(names) {
    // Coalesce bursts (ten check-ins in a second refetch once per section).
    names.forEach(function (n) { pending[n] = true; });
    if (timer) { return; }
    timer = setTimeout(function () {
      var all = Object.keys(pending);
      pending = {};
      timer = null;
      all.forEach(function (n) { htmx.trigger(body, n); });
    }, 50);
  }
  function setOnline(online) {
    body.dataset.liveState = online ? "online" : "offline";
    if (banner) { banner.hidden = online; }
  }
  socket.on("connect", function () { setOnline(true); fire(["live:refresh"]); });
  socket.on("disconnect", function () { setOnline(false); });
  socket.on("connect_error", function () { setOnline(false); });
  socket.on("hint", function (msg) {
    body.dispatchEvent(new CustomEvent("live:message", { detail: { channel: "hint", msg: msg } }));
    if (!msg || msg.event === "resync" || !msg.topics) { fire(["live:refresh"]); return; }
    fire(["live:hint"].concat(msg.topics.map(function (t) { return "live:" + t; })));
  });
  // A status page hears the queue move as numbers: static/js/status.js decides whether its place
  // changed; only a resync (Redis back after an outage) refetches every page.
  socket.on("queue", function (msg) {
    body.dispatchEvent(new CustomEvent("live:message", { detail: { channel: "queue", msg: msg } }));
    if (msg && msg.event === "resync") { fire(["live:refresh"]); }
  });
  ["lobby", "board"].forEach(function (name) {
    socket.on(name, function (msg) {
      body.dispatchEvent(new CustomEvent("live:message", { detail: { channel: name, msg: msg } }));
      fire(["live:refresh"]);
    });
  });
  body.addEventListener("htmx:configRequest", function (evt) {
    if (socket.id) { evt.detail.headers["X-Live-Sid"] = socket.id; }
  });
  document.addEventListener("submit", function (evt) {   // a plain form post (a page load follows)
    var form = evt.target;
    if (!socket.id || !form || form.method !== "post" || form.hasAttribute("hx-post")) { return; }
    var field = form.querySelector("input[name=live_sid]");
    if (!field) {
      field = document.createElement("input");
      field.type = "hidden";
      field.name = "live_sid";
      form.appendChild(field);
    }
    field.value = socket.id;
  }, true);
  window.serviceLaneSocket = socket;
})();
