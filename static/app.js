// Tributary's only script: progressive enhancement. Every action works without it.
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  // Dates in the reader's own time zone (the server renders them in UTC).
  var now = new Date();
  document.querySelectorAll("time[datetime]").forEach(function (el) {
    var at = new Date(el.getAttribute("datetime"));
    if (isNaN(at)) return;
    if (el.hasAttribute("data-short")) {
      var sameDay = at.toDateString() === now.toDateString();
      var sameYear = at.getFullYear() === now.getFullYear();
      el.textContent = sameDay
        ? at.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })
        : sameYear
        ? at.toLocaleDateString([], { month: "short", day: "numeric" })
        : at.toLocaleDateString();
    } else if (el.hasAttribute("data-full")) {
      el.textContent = at.toLocaleString([], { dateStyle: "full", timeStyle: "short" });
    }
    el.title = at.toLocaleString();
  });

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
      case "c": click("[data-check-all]"); break;
      case "?": showHelp(help && help.hidden); break;
      default: return;
    }
    e.preventDefault();
  });

  // The unread count in the tab title stays current.
  var unread = document.body.getAttribute("data-unread");
  if (unread && unread !== "0" && !/\(\d+\)/.test(document.title)) {
    document.title = "(" + unread + ") " + document.title;
  }
})();
