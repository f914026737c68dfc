/* Live updates for every surface.
 * <body data-live-channel="lobby|status|advisor" data-live-site=".." data-live-token="..">
 * joins the Socket.IO room and fires "live:refresh" on <body> after every message and every
 * (re)connect; fragments listen with hx-trigger="live:refresh from:body" and fetch their state
 * from the server. Messages may be lost (at-most-once): the refetch is what makes screens right.
 * A "live:message" event carries the message itself for page extras (the lobby chime). */
(function () {
  "use strict";
  var body = document.body;
  var channel = body.dataset.liveChannel;
  if (!channel || typeof io === "undefined") { return; }
  var banner = document.getElementById("live-banner");
  var auth = { channel: channel, site: body.dataset.liveSite || "", token: body.dataset.liveToken || "" };
  var socket = io({ auth: auth, transports: ["websocket", "polling"], reconnectionDelayMax: 5000 });
  var timer = null;

  function refresh() {
    // Coalesce bursts (ten check-ins in a second refetch once).
    if (timer) { return; }
    timer = setTimeout(function () { timer = null; htmx.trigger(body, "live:refresh"); }, 50);
  }
  function setOnline(online) {
    body.dataset.liveState = online ? "online" : "offline";
    if (banner) { banner.hidden = online; }
  }
  socket.on("connect", function () { setOnline(true); refresh(); });
  socket.on("disconnect", function () { setOnline(false); });
  socket.on("connect_error", function () { setOnline(false); });
  ["lobby", "queue", "status", "board"].forEach(function (name) {
    socket.on(name, function (msg) {
      body.dispatchEvent(new CustomEvent("live:message", { detail: { channel: name, msg: msg } }));
      refresh();
    });
  });
  window.serviceLaneSocket = socket;
})();
