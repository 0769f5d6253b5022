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
  // Charting a round kept on the tablet (offline-rounds.js) is activity too.
  document.addEventListener("haven:activity", touched);

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

// Rounds board (issue 10 items 6 and 7). Tapping "Seen", or choosing a location or status,
// includes the client and stamps the moment (on the server's clock) into the row's hidden
// `seen-<id>`; the summary line follows the chips in words; "x min ago" keeps ticking.
(function () {
  "use strict";
  var form = document.querySelector("[data-round-form]");
  if (!form) { return; }
  // The server's clock at render minus ours: stamps and "min ago" are on the server's time.
  var offset = (parseInt(form.dataset.serverNow || "0", 10) || Date.now()) - Date.now();
  function serverNow() { return Date.now() + offset; }
  function two(n) { return (n < 10 ? "0" : "") + n; }

  function checkedLabel(row, prefix) {
    var input = row.querySelector('input[type="radio"][name^="' + prefix + '-"]:checked');
    return input ? input.dataset.label : "";
  }
  function summarize(row) {
    var summary = row.querySelector("[data-summary]");
    if (!summary) { return; }
    var loc = checkedLabel(row, "loc"), st = checkedLabel(row, "st");
    summary.textContent = (loc || "choose location") + " · " + (st || "choose status");
    var label = row.querySelector("label.include");
    if (st && label) {
      label.classList.remove("needs-status");
      var was = label.querySelector(".was");
      if (was) { was.remove(); }
    }
  }
  function stamp(row, on) {
    var seen = row.querySelector("[data-seen]"), shown = row.querySelector("[data-seen-at]");
    if (!seen) { return; }
    if (!on) { seen.value = ""; if (shown) { shown.textContent = ""; } return; }
    if (seen.value) { return; }  // the first tap is the moment the client was seen
    var now = serverNow();
    seen.value = String(Math.round(now));
    if (shown) {
      var d = new Date(now - offset);
      shown.textContent = two(d.getHours()) + ":" + two(d.getMinutes());
    }
  }
  function needsMore(row) {
    // No status chosen (a sleeping client's never is), or sleeping without breathing seen.
    var st = row.querySelector('input[type="radio"][name^="st-"]:checked');
    var resp = row.querySelector("[data-resp]");
    return !st || !row.querySelector('input[type="radio"][name^="loc-"]:checked') ||
      (st.hasAttribute("data-needs-resp") && resp && !resp.checked);
  }

  form.addEventListener("change", function (e) {
    var row = e.target.closest("[data-round-row]");
    if (!row) { return; }
    var include = row.querySelector("[data-include]");
    if (e.target.matches("[data-include]")) {
      stamp(row, include.checked);
      var detail = row.querySelector("details.round-detail");
      if (include.checked && detail && needsMore(row)) { detail.open = true; }
      return;
    }
    if (e.target.type === "radio") {
      if (include) { include.checked = true; }
      stamp(row, true);
      summarize(row);
      var details = row.querySelector("details.round-detail");
      if (e.target.hasAttribute("data-needs-resp") && details) { details.open = true; }
    }
  });

  // "x min ago" from each element's data-since (epoch ms); the 30 s poll replaces the elements.
  function tick() {
    var now = serverNow();
    document.querySelectorAll("[data-since]").forEach(function (el) {
      var since = parseInt(el.dataset.since, 10);
      if (!since) { return; }
      var minutes = Math.max(0, Math.floor((now - since) / 60000));
      var text = minutes + " min ago";
      if (el.textContent !== text) { el.textContent = text; }
    });
  }
  setInterval(tick, 15000);
  document.addEventListener("htmx:afterSettle", tick);

  // Leaving the board for a note (issue 12) loses the taps not yet sent: ask first.
  document.addEventListener("click", function (e) {
    var link = e.target.closest("a[data-leaves-round]");
    if (!link) { return; }
    var ticked = form.querySelectorAll("[data-include]:checked").length;
    if (ticked && !window.confirm(ticked + " client" + (ticked === 1 ? "" : "s") +
        " ticked and not sent. Leave the board without sending the round?")) {
      e.preventDefault();
    }
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

// My 1:1 (issue 10 item 2): "breathing seen" is required while the chosen status needs it
// (sleeping), and "x min ago" keeps ticking from each element's data-ago-ms (epoch ms).
(function () {
  if (!document.querySelector("[data-seen-form]")) { return; }
  document.addEventListener("change", function (e) {
    var form = e.target.closest("[data-seen-form]");
    if (!form || e.target.name !== "status") { return; }
    var box = form.querySelector("[data-breathing]");
    if (box) { box.required = e.target.hasAttribute("data-needs-resp"); }
  });
  function ago() {
    document.querySelectorAll("[data-ago-ms]").forEach(function (el) {
      var minutes = Math.max(0, Math.floor((Date.now() - Number(el.dataset.agoMs)) / 60000));
      el.textContent = minutes + " min ago";
    });
  }
  // The due tag turns "overdue" when its time passes, and a block done stops being done when
  // the next block starts (15 minutes before its due time), without a reload.
  function due() {
    var now = Date.now();
    document.querySelectorAll("[data-due-ms]").forEach(function (el) {
      var at = Number(el.dataset.dueMs);
      var time = el.textContent.split(" ")[0];
      var card = el.closest(".my-watch");
      if (now >= at) {
        el.className = "state-tag tone-missed";
        el.textContent = time + " — overdue";
        if (card) { card.classList.add("is-overdue"); card.classList.remove("is-done"); }
      } else if (el.hasAttribute("data-done") && now >= at - 15 * 60000) {
        el.className = "state-tag tone-due";
        el.textContent = time;
        if (card) { card.classList.remove("is-done"); }
      }
    });
  }
  setInterval(function () { ago(); due(); }, 15000);
})();

// Progress-note autosave (issue 12): a refused save (400, or 409 when another tab saved first)
// is swapped in like a success, so the refusal shows where "Saved 10:42" would, never silently.
document.addEventListener("htmx:beforeSwap", function (e) {
  var status = e.detail.xhr.status;
  var elt = e.detail.requestConfig && e.detail.requestConfig.elt;
  if ((status === 400 || status === 409) && elt && elt.closest("[data-swap-refusals]")) {
    e.detail.shouldSwap = true;
    e.detail.isError = false;
  }
});

// The phone header (issue 17): one line (Haven, the facility, "Menu"); the menu button opens the
// navigation and the account links below it. Without this script the header shows everything.
(function () {
  "use strict";
  var header = document.querySelector("header.topbar");
  var toggle = header && header.querySelector("[data-menu-toggle]");
  if (!toggle) { return; }
  header.classList.add("has-menu");
  toggle.hidden = false;
  function set(open) {
    header.classList.toggle("menu-open", open);
    toggle.setAttribute("aria-expanded", open ? "true" : "false");
  }
  toggle.addEventListener("click", function () { set(!header.classList.contains("menu-open")); });
  document.addEventListener("keydown", function (e) {
    if (e.key === "Escape" && header.classList.contains("menu-open")) { set(false); toggle.focus(); }
  });
  // The account menu closes when a tap or click lands elsewhere.
  document.addEventListener("click", function (e) {
    document.querySelectorAll("details.account-menu[open]").forEach(function (menu) {
      if (!menu.contains(e.target)) { menu.open = false; }
    });
  });
})();
