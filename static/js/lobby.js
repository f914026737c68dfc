/* Lobby TV: clock, and a chime when a number is called or recalled.
 * The board itself is refetched by live.js; here we only add sound and the highlight. */
(function () {
  "use strict";
  var clock = document.getElementById("clock");
  function tick() {
    if (!clock) { return; }
    var tz = clock.dataset.tz || "Asia/Shanghai";
    clock.textContent = new Date().toLocaleTimeString(document.documentElement.lang || "zh-CN",
      { timeZone: tz, hour: "2-digit", minute: "2-digit" });
  }
  tick();
  setInterval(tick, 10000);

  var audio = null;
  var hint = document.getElementById("sound-hint");
  function ctx() {
    if (!audio) {
      var C = window.AudioContext || window.webkitAudioContext;
      if (!C) { return null; }
      audio = new C();
    }
    return audio;
  }
  function chime() {
    var a = ctx();
    if (!a) { return; }
    if (a.state === "suspended") {
      a.resume();
      if (a.state === "suspended" && hint) { hint.hidden = false; }
    }
    // Two-tone "ding-dong", like a bank's calling system.
    [[880, 0], [660, 0.35]].forEach(function (note) {
      var o = a.createOscillator(), g = a.createGain();
      o.type = "sine";
      o.frequency.value = note[0];
      g.gain.setValueAtTime(0.0001, a.currentTime + note[1]);
      g.gain.exponentialRampToValueAtTime(0.4, a.currentTime + note[1] + 0.02);
      g.gain.exponentialRampToValueAtTime(0.0001, a.currentTime + note[1] + 0.6);
      o.connect(g); g.connect(a.destination);
      o.start(a.currentTime + note[1]);
      o.stop(a.currentTime + note[1] + 0.65);
    });
    document.body.dataset.chimes = String(Number(document.body.dataset.chimes || 0) + 1);
  }
  document.addEventListener("click", function () {
    var a = ctx();
    if (a && a.state === "suspended") { a.resume(); }
    if (hint) { hint.hidden = true; }
  });
  document.body.addEventListener("live:message", function (e) {
    var m = e.detail && e.detail.msg;
    if (e.detail.channel === "lobby" && m && (m.event === "ticket.called" || m.event === "ticket.recalled")) {
      chime();
      document.body.dataset.lastCall = m.number + "@" + (m.desk || "");
    }
  });
})();
