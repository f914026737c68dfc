/* Workshop wall board: keeps #lanes equal to the server's state.
 * Every "board" message carries the site's change sequence: a message newer than the state on
 * screen (or a gap) refetches the whole lanes block from /board/state; so does every (re)connect,
 * a server restart included, and a timer every 60 s as a safety net. Between fetches the elapsed
 * times and countdowns tick here from data-since / data-promise. No eval, no inline code. */
(function () {
  "use strict";
  var body = document.body;
  var url = body.dataset.stateUrl;
  var tz = body.dataset.tz || "Asia/Shanghai";
  var lang = document.documentElement.lang || "zh-CN";
  var lastSeq = -1;
  var issued = 0;        // fetches started; only the latest one's answer is applied
  var inFlight = false, again = false;

  function lanes() { return document.getElementById("lanes"); }
  function readSeq() {
    var el = lanes();
    lastSeq = el ? Number(el.dataset.seq) : -1;
    body.dataset.boardSeq = String(lastSeq);
  }

  function fmt(template, key, value) { return template.split("{" + key + "}").join(value); }
  function duration(minutes) {
    minutes = Math.max(0, Math.floor(minutes));
    if (minutes < 60) { return fmt(body.dataset.fmtM, "m", String(minutes)); }
    var m = minutes % 60;
    return fmt(fmt(body.dataset.fmtHm, "h", String(Math.floor(minutes / 60))), "m", (m < 10 ? "0" : "") + m);
  }
  function tick() {
    var now = Date.now();
    var clock = document.getElementById("board-clock");
    if (clock) {
      clock.textContent = new Date(now).toLocaleTimeString(lang, { timeZone: tz, hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
    }
    document.querySelectorAll("#lanes .elapsed[data-since]").forEach(function (el) {
      el.textContent = duration((now - Date.parse(el.dataset.since)) / 60000);
    });
    document.querySelectorAll("#lanes .promise[data-promise]").forEach(function (el) {
      var cd = el.querySelector(".countdown");
      if (!cd) { return; }
      var left = (Date.parse(el.dataset.promise) - now) / 60000;
      cd.textContent = left >= 0 ? fmt(body.dataset.fmtLeft, "t", duration(left)) : fmt(body.dataset.fmtLate, "t", duration(-left));
      var card = el.closest(".card");
      if (left < 0 && card && !card.classList.contains("risk-overdue")) {
        card.classList.remove("risk-ok", "risk-at_risk");
        card.classList.add("risk-overdue");
        card.dataset.risk = "overdue";
      }
    });
  }

  function rebuild() {
    if (inFlight) { again = true; return; }
    inFlight = true;
    var mine = ++issued;
    fetch(url, { cache: "no-store", credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (resp) {
        if (!resp.ok) { throw new Error("board state " + resp.status); }
        return resp.text();
      })
      .then(function (html) {
        if (mine !== issued) { return; }
        var tpl = document.createElement("template");
        tpl.innerHTML = html.trim();
        var fresh = tpl.content.querySelector("#lanes");
        var old = lanes();
        if (fresh && old) {
          old.replaceWith(fresh);
          readSeq();
          tick();
          body.dataset.rebuilds = String(Number(body.dataset.rebuilds || 0) + 1);
          body.dispatchEvent(new CustomEvent("board:rebuilt", { detail: { seq: lastSeq } }));
        }
      })
      .catch(function () { /* offline or restarting: the next (re)connect or the timer rebuilds */ })
      .then(function () {
        inFlight = false;
        if (again) { again = false; rebuild(); }
      });
  }

  body.addEventListener("live:message", function (e) {
    var d = e.detail || {};
    if (d.channel !== "board" || !d.msg) { return; }
    var seq = Number(d.msg.seq);
    if (!isNaN(seq) && seq <= lastSeq) { return; }  // already on screen
    rebuild();                                      // newer, or a gap: the whole state
  });
  var socket = window.serviceLaneSocket;
  if (socket) { socket.on("connect", rebuild); }    // every reconnect, after a restart too
  window.addEventListener("online", rebuild);
  setInterval(rebuild, 60000);
  setInterval(tick, 1000);
  readSeq();
  tick();
})();
