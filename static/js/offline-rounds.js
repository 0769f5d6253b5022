// Rounds kept on the tablet while the network is down (issue 17 item 6; observations/offline.py).
//
// "Record round" posts the round by fetch. If the network is down the round is kept in this
// browser's IndexedDB ("haven-rounds"), the board says "Not yet sent" (a banner, and a tag on each
// client's row), and the round is sent again when the network returns ("online"), on a retry with
// backoff, and on the next page load. The submission key makes a repeat harmless; the times sent
// are the ones tapped. A round the server refuses stays on screen until the technician dismisses it.
//
// What is kept, per round: the submission key, the board's signed token (account id and the
// time the board was loaded), the board's address and unit name, when "Record round" was pressed,
// "moved back" minutes and reason as typed, and per client: public id, location and status code
// ids, the tapped time, the breathing and safety ticks, and the remark as typed. No names, MRNs
// or dates of birth. Signing out asks first and clears them (leaving a note without clients).
// The idle sign-out does not clear them: the sign-in page says how many rounds wait, and once the
// same account signs in again on this tablet they are sent (the server checks the board's token
// names that account; under another account they are shown "Not recorded", to be handed back or
// dismissed). Taps on the board while rounds wait or the network is down count as activity for
// the idle clock (haven.js, "haven:activity"): the server's own 15-minute clock still applies.
(function () {
  "use strict";
  if (!window.indexedDB || !window.fetch || !window.Promise) { return; }
  var DB_NAME = "haven-rounds", STORE = "rounds", DISCARDED = "haven-rounds-discarded";
  var body = document.body;
  var signedIn = body.hasAttribute("data-idle-timeout");

  // ------------------------------------------------------------------ the store
  var dbPromise = null;
  function db() {
    if (!dbPromise) {
      dbPromise = new Promise(function (resolve, reject) {
        var req = indexedDB.open(DB_NAME, 1);
        req.onupgradeneeded = function () { req.result.createObjectStore(STORE, { keyPath: "key" }); };
        req.onsuccess = function () { resolve(req.result); };
        req.onerror = function () { reject(req.error); };
      });
    }
    return dbPromise;
  }
  function tx(mode, work) {
    return db().then(function (d) {
      return new Promise(function (resolve, reject) {
        var t = d.transaction(STORE, mode), result;
        result = work(t.objectStore(STORE));
        t.oncomplete = function () { resolve(result && "result" in result ? result.result : undefined); };
        t.onerror = function () { reject(t.error); };
      });
    });
  }
  function all() { return tx("readonly", function (s) { return s.getAll(); }).then(function (r) { return r || []; }); }
  function put(rec) { return tx("readwrite", function (s) { s.put(rec); }); }
  function drop(key) { return tx("readwrite", function (s) { s["delete"](key); }); }
  // Empty the store, leaving a note without clients ("3 checks not sent") so nothing vanishes
  // silently: it is shown on the next page until dismissed.
  function clearAll() {
    return all().then(function (recs) {
      if (recs.length) {
        var notes = discardedNotes();
        recs.forEach(function (r) {
          notes.push({ unit: r.unit, pressed: r.pressed, tz: r.tz, count: r.entries.length });
        });
        try { localStorage.setItem(DISCARDED, JSON.stringify(notes)); } catch (e) { /* full */ }
      }
      return tx("readwrite", function (s) { s.clear(); });
    });
  }
  function discardedNotes() {
    try { return JSON.parse(localStorage.getItem(DISCARDED) || "[]") || []; } catch (e) { return []; }
  }

  // ------------------------------------------------------------------ helpers
  function two(n) { return (n < 10 ? "0" : "") + n; }
  // Times in the facility's zone, as the board shows them (the tablet's own zone may differ).
  function clock(ms, tz, seconds) {
    try {
      var opts = { hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZone: tz || undefined };
      if (seconds) { opts.second = "2-digit"; }
      return new Intl.DateTimeFormat("en-GB", opts).format(new Date(ms));
    } catch (e) {
      var d = new Date(ms);
      return two(d.getHours()) + ":" + two(d.getMinutes()) + (seconds ? ":" + two(d.getSeconds()) : "");
    }
  }
  function plural(n, word) { return n + " " + word + (n === 1 ? "" : "s"); }
  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) { node.className = cls; }
    if (text) { node.textContent = text; }
    return node;
  }
  function csrf() {
    try { return JSON.parse(body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || ""; }
    catch (e) { return ""; }
  }
  function newKey() {
    if (window.crypto && crypto.randomUUID) { return crypto.randomUUID(); }
    var b = new Uint8Array(16);
    crypto.getRandomValues(b);
    b[6] = (b[6] & 15) | 64; b[8] = (b[8] & 63) | 128;
    var h = Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }

  // ------------------------------------------------------------------ signed out: say so
  // Rounds kept through the idle sign-out stay (they hold no names) and are sent after the same
  // account signs in again; the page says they wait, so nothing vanishes unseen.
  if (!signedIn) {
    showDiscarded();
    all().then(showWaiting, function () {});
    return;
  }
  // Charting while rounds wait (or the network is down) is a person at the tablet: haven.js's
  // idle clock restarts, so the board is not taken away mid-outage.
  var keptCount = 0;
  ["click", "change"].forEach(function (type) {
    document.addEventListener(type, function (e) {
      if (!(keptCount || !navigator.onLine)) { return; }
      if (e.target.closest && e.target.closest("[data-round-form], .kept-rounds")) {
        document.dispatchEvent(new CustomEvent("haven:activity"));
      }
    });
  });
  // Signing out clears the store first (and asks if a round is still waiting to be sent).
  document.addEventListener("submit", function (e) {
    var form = e.target;
    var action = form.getAttribute && form.getAttribute("action");
    if (!action || !/\/logout\/?$/.test(new URL(action, location.href).pathname)) { return; }
    e.preventDefault();
    all().then(function (recs) {
      if (recs.length && !window.confirm(plural(recs.length, "round") + " on this tablet " +
          (recs.length === 1 ? "is" : "are") + " not yet sent. Sign out and discard " +
          (recs.length === 1 ? "it" : "them") + "?")) { return null; }
      return clearAll().then(function () { HTMLFormElement.prototype.submit.call(form); });
    }, function () { HTMLFormElement.prototype.submit.call(form); });
  }, true);

  // ------------------------------------------------------------------ sending
  function params(rec) {
    var p = new URLSearchParams();
    p.append("submission_key", rec.key);
    p.append("board_token", rec.token);
    p.append("pressed_at", String(rec.pressed));
    p.append("minutes_back", rec.minutesBack);
    p.append("late_reason", rec.lateReason);
    rec.entries.forEach(function (x) {
      p.append("include", x.pid);
      p.append("loc-" + x.pid, x.loc);
      p.append("st-" + x.pid, x.st);
      p.append("seen-" + x.pid, x.seen);
      p.append("remark-" + x.pid, x.remark);
      if (x.resp) { p.append("resp-" + x.pid, "on"); }
      if (x.safety) { p.append("safety-" + x.pid, "on"); }
    });
    return p;
  }
  // One attempt: "sent", "refused" (with the server's words), or "offline" (no answer).
  function send(rec, live) {
    var headers = { "Accept": "application/json", "X-CSRFToken": csrf() };
    if (!live) { headers["X-Haven-Kept"] = "1"; }
    return fetch(rec.url, {
      method: "POST", body: params(rec), credentials: "same-origin", headers: headers
    }).then(function (resp) {
      if ((resp.headers.get("Content-Type") || "").indexOf("application/json") === -1) {
        var signedOut = /\/accounts\/login\//.test(resp.url);
        return { outcome: signedOut ? "signed-out" : "refused", data: { errors: [
          signedOut ? "You were signed out; this round cannot be sent from this sign-in."
                    : "The server did not take this round (HTTP " + resp.status + ")."
        ], off_unit: [] } };
      }
      return resp.json().then(function (data) {
        return { outcome: data.ok ? "sent" : "refused", data: data };
      });
    }, function () { return { outcome: "offline" }; });
  }

  var refusals = {};  // key -> the server's answer, in memory only (it names clients)
  var sentNotes = []; // "Sent: ..." lines shown after a kept round went through
  var delay = 0, retryTimer = null, retryAt = 0, flushing = false, again = false;

  function flush() {
    if (flushing) { again = true; return Promise.resolve(); }  // once more when this one ends
    flushing = true;
    again = false;
    clearTimeout(retryTimer); retryTimer = null;
    return all().then(function (recs) {
      var offline = false;
      var chain = Promise.resolve();
      recs.forEach(function (rec) {
        chain = chain.then(function () {
          if (offline || (rec.state === "refused" && refusals[rec.key])) { return null; }
          return send(rec, false).then(function (result) { return settle(rec, result); })
            .then(function (outcome) { if (outcome === "offline") { offline = true; } });
        });
      });
      return chain.then(function () {
        flushing = false;
        if (again) { return flush(); }
        if (offline) { schedule(); } else { delay = 0; retryAt = 0; }
        return render();
      });
    }).catch(function () { flushing = false; });
  }
  function schedule() {
    clearTimeout(retryTimer);
    delay = Math.min(delay ? delay * 2 : 5000, 60000);
    retryAt = Date.now() + delay;
    retryTimer = setTimeout(flush, delay);
  }
  function settle(rec, result) {
    if (result.outcome === "sent") {
      sentNotes.push("Sent: the round on " + rec.unit + " of " + clock(rec.pressed, rec.tz) + " — " +
        result.data.message);
      delete refusals[rec.key];
      return drop(rec.key).then(refreshBoard).then(function () { return "sent"; });
    }
    if (result.outcome === "refused") {
      refusals[rec.key] = result.data;
      rec.state = "refused";
      return put(rec).then(function () { return "refused"; });
    }
    if (result.outcome === "signed-out") {  // kept: sent after signing in again
      window.location.href = (body.dataset.loginUrl || "/accounts/login/") + "?next=" +
        encodeURIComponent(rec.url);
      return Promise.resolve("signed-out");
    }
    return Promise.resolve("offline");
  }
  window.addEventListener("online", function () { delay = 0; flush(); });

  // ------------------------------------------------------------------ the board
  var form = document.querySelector("[data-round-form][data-board-token]");
  var offset = 0;
  if (form) {
    offset = (parseInt(form.dataset.serverNow || "0", 10) || Date.now()) - Date.now();
    form.addEventListener("submit", function (e) {
      if (e.defaultPrevented) { return; }  // haven.js: a double tap sends one round
      var rec = readRound();
      // Nothing ticked: the server says so, unless it cannot be reached (then the page would be
      // lost to the browser's error page).
      if (!rec.entries.length && navigator.onLine) { return; }
      e.preventDefault();
      if (!rec.entries.length) { return; }
      put(rec).then(function () { return send(rec, true); }).then(function (result) {
        if (result.outcome === "sent") {
          return drop(rec.key).then(function () { window.location.replace(rec.url); });
        }
        if (result.outcome === "offline") {
          startNextRound();
          render();
          schedule();
          return null;
        }
        if (result.outcome === "signed-out") {  // kept, and sent after signing in again
          startNextRound();
          return settle(rec, result);
        }
        // Refused while the board is open: the page's own post shows why, with everything
        // typed kept (nothing was saved; the same post is refused the same way).
        return drop(rec.key).then(function () { HTMLFormElement.prototype.submit.call(form); });
      }, function () { HTMLFormElement.prototype.submit.call(form); });
    });
  }
  function readRound() {
    var data = new FormData(form);
    return {
      key: String(data.get("submission_key") || ""),
      token: form.dataset.boardToken,
      url: window.location.pathname,
      unit: form.dataset.unitName || "",
      tz: form.dataset.tz || "",
      pressed: Math.round(Date.now() + offset),
      minutesBack: String(data.get("minutes_back") || "0"),
      lateReason: String(data.get("late_reason") || ""),
      state: "waiting",
      entries: data.getAll("include").map(function (pid) {
        return {
          pid: String(pid),
          loc: String(data.get("loc-" + pid) || ""),
          st: String(data.get("st-" + pid) || ""),
          seen: String(data.get("seen-" + pid) || ""),
          remark: String(data.get("remark-" + pid) || ""),
          resp: data.get("resp-" + pid) === "on",
          safety: data.get("safety-" + pid) === "on"
        };
      })
    };
  }
  // The kept round is out of the form: the next round starts clear, under a key of its own.
  function startNextRound() {
    form.querySelector('input[name="submission_key"]').value = newKey();
    form.querySelectorAll("[data-include]:checked").forEach(function (box) {
      var detail = box.closest("[data-round-row]").querySelector("details.round-detail");
      if (detail) { detail.open = false; }  // as after a round recorded: the row is done
    });
    form.querySelectorAll("[data-include], [data-resp], input[name^='safety-']").forEach(function (box) {
      box.checked = false;
    });
    form.querySelectorAll("[data-seen]").forEach(function (input) { input.value = ""; });
    form.querySelectorAll("[data-seen-at]").forEach(function (span) { span.textContent = ""; });
    form.querySelectorAll("input[name^='remark-']").forEach(function (input) { input.value = ""; });
  }
  // After a kept round went through, the board's states follow without a reload.
  function refreshBoard() {
    var poll = document.querySelector("[data-board-poll]");
    if (poll && window.htmx) {
      window.htmx.ajax("GET", poll.getAttribute("hx-get"),
        { source: poll, swap: "none", headers: { "X-Haven-Poll": "1" } });
    }
  }

  // ------------------------------------------------------------------ what the page shows
  var box = null;
  function container() {
    if (!box) {
      box = el("section", "kept-rounds");
      box.setAttribute("aria-label", "Rounds kept on this tablet");
      var main = document.getElementById("main");
      if (!main) { return null; }
      var anchor = form ? form : main.firstChild;
      (form ? form.parentNode : main).insertBefore(box, anchor);
    }
    return box;
  }
  function button(text, cls, onClick) {
    var b = el("button", "btn small " + (cls || ""), text);
    b.type = "button";
    b.addEventListener("click", onClick);
    return b;
  }
  function render() {
    return all().then(function (recs) {
      var target = container();
      if (!target) { return; }
      target.textContent = "";
      sentNotes.forEach(function (text) {
        target.appendChild(el("p", "message success kept-sent", text)).setAttribute("role", "status");
      });
      sentNotes = [];
      keptCount = recs.length;
      recs.forEach(function (rec) { target.appendChild(card(rec)); });
      showDiscarded();
      markRows(recs);
    });
  }
  function card(rec) {
    var refused = rec.state === "refused", answer = refusals[rec.key];
    var node = el("div", "kept-round " + (refused ? "kept-refused" : "kept-waiting"));
    node.setAttribute("role", refused ? "alert" : "status");
    node.dataset.keptRound = rec.key;
    var head = el("p");
    head.appendChild(el("strong", null, refused ? "Not recorded" : "Not yet sent"));
    var what = " — round on " + rec.unit + ", Record pressed " + clock(rec.pressed, rec.tz) + ", " +
      plural(rec.entries.length, "client") + ".";
    head.appendChild(document.createTextNode(what));
    node.appendChild(head);
    if (!refused) {
      var wait = retryAt ? " Trying again at " + clock(retryAt + offset, rec.tz, true) + "." : "";
      node.appendChild(el("p", "meta", "Kept on this tablet; it is sent by itself when the " +
        "network returns, with the times you tapped." + wait));
      node.appendChild(button("Send now", "", function () { delay = 0; flush(); }));
      return node;
    }
    var list = el("ul", "kept-errors");
    ((answer && answer.errors) || ["Refused by the server; checking why…"]).forEach(function (text) {
      list.appendChild(el("li", null, text));
    });
    node.appendChild(list);
    node.appendChild(el("p", "meta", answer && answer.other_account
      ? "Nothing from this round was saved. It is kept on this tablet: it is sent when the " +
        "person who charted it signs in here again."
      : "Nothing from this round was saved. Chart these clients again, or dismiss this once " +
        "they are charted."));
    var off = (answer && answer.off_unit) || [];
    var others = rec.entries.filter(function (x) { return off.indexOf(x.pid) === -1; });
    if (off.length && others.length) {
      node.appendChild(button("Send the other " + plural(others.length, "client"), "primary", function () {
        rec.entries = others;
        rec.state = "waiting";
        delete refusals[rec.key];
        put(rec).then(flush);
      }));
    }
    node.appendChild(button("Dismiss", "ghost", function () {
      if (!window.confirm("Dismiss this round? It was not recorded; nothing of it is kept.")) { return; }
      delete refusals[rec.key];
      drop(rec.key).then(render);
    }));
    return node;
  }
  // "Not yet sent" (or "Not recorded") on each client's row of the board.
  function markRows(recs) {
    document.querySelectorAll("[data-kept-tag]").forEach(function (tag) { tag.remove(); });
    recs.forEach(function (rec) {
      rec.entries.forEach(function (x) {
        var state = document.getElementById("state-" + x.pid);
        if (!state) { return; }
        var refused = rec.state === "refused";
        var tag = el("span", "state-tag kept-tag " + (refused ? "tone-missed" : "tone-due"),
          (refused ? "Not recorded" : "Not yet sent") + " · " +
            clock(x.seen ? Number(x.seen) : rec.pressed, rec.tz));
        tag.setAttribute("data-kept-tag", "");
        state.parentNode.insertBefore(tag, state.nextSibling);
      });
    });
  }
  // The sign-in page: how many rounds wait on this tablet (no clients named).
  function showWaiting(recs) {
    var main = document.getElementById("main");
    if (!recs.length || !main) { return; }
    var count = recs.reduce(function (n, r) { return n + r.entries.length; }, 0);
    var node = el("div", "kept-round kept-waiting");
    node.setAttribute("role", "status");
    node.setAttribute("data-kept-waiting", "");
    node.appendChild(el("p", null, "Not yet sent: " + plural(recs.length, "round") + " (" +
      plural(count, "check") + ") charted on this tablet " + (recs.length === 1 ? "waits" : "wait") +
      ". Sign in as the person who charted " + (recs.length === 1 ? "it" : "them") +
      " and " + (recs.length === 1 ? "it is" : "they are") + " sent."));
    main.insertBefore(node, main.firstChild);
  }
  function showDiscarded() {
    var notes = discardedNotes();
    var old = document.querySelector("[data-kept-discarded]");
    if (old) { old.remove(); }
    if (!notes.length) { return; }
    var target = signedIn ? container() : document.getElementById("main");
    if (!target) { return; }
    var node = el("div", "kept-round kept-refused");
    node.setAttribute("role", "alert");
    node.setAttribute("data-kept-discarded", "");
    notes.forEach(function (n) {
      node.appendChild(el("p", null, "Not sent: a round on " + n.unit + " (" +
        plural(n.count, "client") + ", Record pressed " + clock(n.pressed, n.tz) + ") was still on this " +
        "tablet at sign-out and was discarded. Chart those clients again."));
    });
    node.appendChild(button("Dismiss", "ghost", function () {
      localStorage.removeItem(DISCARDED);
      node.remove();
    }));
    if (signedIn) { target.appendChild(node); } else { target.insertBefore(node, target.firstChild); }
  }
  document.addEventListener("htmx:afterSettle", function () { all().then(markRows); });

  // On every page load: show what is kept, and send it.
  all().then(function (recs) {
    render();
    if (recs.length) { flush(); }
  }, function () {});
})();
