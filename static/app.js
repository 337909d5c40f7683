// Tributary's only script: progressive enhancement. Every action works without it.
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  // The server writes dates in the person's time zone: their setting, else the zone this
  // browser reports here (a cookie, read on the next page), else UTC.
  try {
    var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    // IANA names hold only letters, digits and "/_+-": a cookie value as they are.
    if (zone && /^[A-Za-z0-9\/_+-]{1,64}$/.test(zone) &&
        document.body.getAttribute("data-browser-zone") !== zone) {
      document.cookie = "tributary_tz=" + zone +
        "; path=/; max-age=31536000; samesite=lax" +
        (location.protocol === "https:" ? "; secure" : "");
    }
  } catch (e) { /* no Intl: dates stay in the zone the server chose */ }
  // Texts in the page's language, for what the script writes itself.
  function text(name, fallback) {
    return document.body.getAttribute("data-text-" + name) || fallback;
  }

  // Select all rows.
  var selectAll = document.querySelector("[data-select-all]");
  if (selectAll) {
    selectAll.closest("label").hidden = false;
    selectAll.addEventListener("change", function () {
      document.querySelectorAll(".messages input[name=id]").forEach(function (box) {
        box.checked = selectAll.checked;
      });
    });
  }

  // The sidebar folds away on phones.
  var toggle = document.querySelector(".menu-toggle");
  var sidebar = document.getElementById("sidebar");
  if (toggle && sidebar) {
    toggle.addEventListener("click", function () {
      var open = sidebar.classList.toggle("open");
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
    });
  }

  // Keyboard shortcuts, Gmail style.
  var help = document.getElementById("shortcuts");
  var rows = Array.prototype.slice.call(document.querySelectorAll(".messages .message"));
  var current = -1;
  function select(i) {
    if (!rows.length) return;
    current = Math.max(0, Math.min(rows.length - 1, i));
    rows.forEach(function (r, n) { r.classList.toggle("selected", n === current); });
    var link = rows[current].querySelector("a.row");
    if (link) link.focus();
  }
  function go(selector) {
    var a = document.querySelector(selector);
    if (a) window.location.href = a.href;
  }
  function click(selector) {
    var b = document.querySelector(selector);
    if (b) b.click();
  }
  function showHelp(show) {
    if (!help) return;
    help.hidden = !show;
    if (show) help.querySelector("button").focus();
  }
  if (help) {
    help.querySelector("[data-close-help]").addEventListener("click", function () { showHelp(false); });
  }
  var pendingG = false;
  document.addEventListener("keydown", function (e) {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    if (e.defaultPrevented) return;
    var tag = (e.target.tagName || "").toLowerCase();
    if (tag === "input" || tag === "textarea" || tag === "select") {
      if (e.key === "Escape") e.target.blur();
      return;
    }
    if (e.key === "Escape") { showHelp(false); return; }
    if (pendingG) {
      pendingG = false;
      if (e.key === "i") { window.location.href = "/"; e.preventDefault(); }
      return;
    }
    var inMessage = document.querySelector(".message-view");
    switch (e.key) {
      case "j": inMessage ? go("[data-next]") : select(current + 1); break;
      case "k": inMessage ? go("[data-prev]") : select(current - 1); break;
      case "o":
      case "Enter":
        if (!inMessage && current >= 0) { go(".messages .message.selected a.row"); } else return;
        break;
      case "u": if (inMessage) go("[data-back]"); else return; break;
      case "s":
        if (inMessage) { click("[data-star]"); }
        else if (current >= 0) {
          var box = rows[current].querySelector("input[name=id]");
          document.querySelectorAll(".messages input[name=id]").forEach(function (b) { b.checked = b === box; });
          click("button[value=star]");
        } else return;
        break;
      case "/": var q = document.getElementById("search-box"); if (q) q.focus(); break;
      case "g": pendingG = true; break;
      case "c": go("a[data-compose]"); break;
      case "C": click("[data-check-all]"); break;
      case "r": if (inMessage) go("[data-reply]"); else return; break;
      case "a": if (inMessage) go("[data-reply-all]"); else return; break;
      case "f": if (inMessage) go("[data-forward]"); else return; break;
      case "?": showHelp(help && help.hidden); break;
      default: return;
    }
    e.preventDefault();
  });

  // One-click user name switch on the account form (the buttons also work without us).
  document.querySelectorAll("[data-set-username]").forEach(function (button) {
    button.addEventListener("click", function (e) {
      var input = document.getElementById("username");
      if (!input) return;
      e.preventDefault();
      input.value = button.getAttribute("data-set-username");
      input.focus();
    });
  });

  // Live progress: after "Check mail now", poll the status until the checks finish, update
  // the status lines, and bring new messages into the inbox without a reload.
  var live = document.querySelector(".live-status");
  function poll(deadline, newestBefore, onDone) {
    fetch("/settings/accounts/status.json", { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
      .then(function (s) {
        s.accounts.forEach(function (a) {
          var line = document.querySelector("[data-account-id='" + a.id + "'] [data-status]");
          if (line) { line.textContent = a.text; line.className = "status status-" + a.kind; }
        });
        var busy = s.accounts.some(function (a) { return a.busy; });
        if (live) live.textContent = busy ? text("checking", "Checking for new mail…") : "";
        if (s.newest_message_id !== newestBefore && document.querySelector("[data-message-list]")) {
          refreshList();
          newestBefore = s.newest_message_id;
        }
        if (busy && Date.now() < deadline) {
          setTimeout(function () { poll(deadline, newestBefore, onDone); }, 1000);
        } else if (onDone) { onDone(); }
      })
      .catch(function () { if (live) live.textContent = ""; });
  }
  function refreshList() {
    fetch(window.location.href, { credentials: "same-origin" })
      .then(function (r) { return r.text(); })
      .then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        ["[data-message-list]", ".sidebar", ".pager"].forEach(function (sel) {
          var fresh = doc.querySelector(sel), old = document.querySelector(sel);
          if (fresh && old) old.innerHTML = fresh.innerHTML;
        });
        document.title = doc.title;
        var empty = document.querySelector(".empty");
        if (empty && doc.querySelector("[data-message-list] li")) empty.remove();
        rows = Array.prototype.slice.call(document.querySelectorAll(".messages .message"));
      });
  }
  function startCheck(form, button) {
    var body = new URLSearchParams(new FormData(form));
    if (button && button.name) body.set(button.name, button.value);
    if (live) live.textContent = text("checking", "Checking for new mail…");
    fetch(button && button.getAttribute("formaction") || form.action, {
      method: "POST", body: body, credentials: "same-origin", redirect: "manual"
    }).then(function () {
      fetch("/settings/accounts/status.json", { credentials: "same-origin" })
        .then(function (r) { return r.json(); })
        .then(function (s) { poll(Date.now() + 120000, s.newest_message_id); });
    });
  }
  var checkAll = document.querySelector("[data-check-all]");
  if (checkAll) {
    checkAll.addEventListener("click", function (e) {
      e.preventDefault();
      startCheck(checkAll.form, checkAll);
    });
  }
  document.querySelectorAll("form[data-check-account]").forEach(function (form) {
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      var line = form.closest("[data-account-id]").querySelector("[data-status]");
      if (line) { line.textContent = text("checking-now", "Checking now…"); line.className = "status status-checking"; }
      startCheck(form, null);
    });
  });

  // The accounts page follows checks that are running or about to run.
  if (document.querySelector(".account-list .status-checking, .account-list .status-new") ||
      /[?&](saved|checking)=/.test(window.location.search)) {
    poll(Date.now() + 120000, undefined);
  }

  // The unread count in the tab title stays current.
  var unread = document.body.getAttribute("data-unread");
  if (unread && !/\(\d+\+?\)/.test(document.title)) {
    document.title = "(" + unread + ") " + document.title;
  }

  // Drafts are also saved when the person leaves the compose page with unsaved changes
  // (the "Save draft" button does it without JavaScript).
  var compose = document.querySelector("form[data-compose]");
  if (compose && window.navigator.sendBeacon && window.FormData) {
    var dirty = false, submitting = false;
    compose.addEventListener("input", function () { dirty = true; });
    compose.addEventListener("submit", function () { submitting = true; });
    window.addEventListener("pagehide", function () {
      if (!dirty || submitting) return;
      var data = new FormData(compose);
      data.set("action", "save");
      navigator.sendBeacon(compose.getAttribute("action"), data);
      dirty = false;
    });
  }
})();
