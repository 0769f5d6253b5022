// Haven's only script besides htmx. No inline script anywhere (the CSP forbids it).
(function () {
  "use strict";
  var body = document.body;
  var timeout = parseInt(body.dataset.idleTimeout || "0", 10);
  var warning = parseInt(body.dataset.idleWarning || "120", 10);
  if (!timeout) { return; }
  var box = document.getElementById("idle-warning");
  var countdown = box && box.querySelector("[data-idle-countdown]");
  var lastActivity = Date.now();
  var loginUrl = body.dataset.loginUrl || "/accounts/login/";

  // Only requests reset the server's idle clock, so only a request-making action resets ours:
  // page load, a form submit, an htmx request that is not a background poll.
  function touched() { lastActivity = Date.now(); if (box) { box.hidden = true; } }
  document.addEventListener("htmx:beforeRequest", function (e) {
    var headers = (e.detail && e.detail.requestConfig && e.detail.requestConfig.headers) || {};
    if (!headers["X-Haven-Poll"]) { touched(); }
  });

  function tick() {
    var idle = (Date.now() - lastActivity) / 1000;
    var left = Math.max(0, Math.round(timeout - idle));
    if (left <= 0) {
      window.location.href = loginUrl + "?next=" + encodeURIComponent(window.location.pathname);
      return;
    }
    if (box && left <= warning) {
      box.hidden = false;
      if (countdown) {
        var m = Math.floor(left / 60), s = left % 60;
        countdown.textContent = m + ":" + (s < 10 ? "0" : "") + s;
      }
    }
  }
  setInterval(tick, 1000);

  var stay = box && box.querySelector("[data-idle-stay]");
  if (stay) {
    stay.addEventListener("click", function () {
      fetch("/ping/", { credentials: "same-origin" }).then(function (r) {
        if (r.ok) { touched(); } else { window.location.href = loginUrl; }
      });
    });
  }
})();

// Rounds board: choosing a location or status for a client includes that client in the round,
// so a changed client is two taps and a quiet one (pre-filled) is one.
(function () {
  "use strict";
  var form = document.querySelector("[data-round-form]");
  if (!form) { return; }
  form.addEventListener("change", function (e) {
    var row = e.target.closest("[data-round-row]");
    if (!row || e.target.matches("[data-include]")) { return; }
    var include = row.querySelector("[data-include]");
    if (include && e.target.type === "radio") { include.checked = true; }
  });
  var submitted = false;
  form.addEventListener("submit", function (e) {
    // A double tap sends one request; the server's submission key covers retries anyway, so
    // after a few seconds (a request lost on flaky Wi-Fi) the button works again.
    if (submitted) { e.preventDefault(); return; }
    submitted = true;
    setTimeout(function () { submitted = false; }, 5000);
  });
  window.addEventListener("pageshow", function () { submitted = false; });
})();
