// Keyhouse dashboard behaviour. No inline scripts anywhere: the page's CSP forbids them.
(function () {
  "use strict";

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  // Every htmx request carries the CSRF token as a header (Flask-WTF reads X-CSRFToken).
  document.addEventListener("htmx:configRequest", function (event) {
    event.detail.headers["X-CSRFToken"] = csrfToken();
  });

  var TOAST_MS = 6000;
  var MAX_TOASTS = 3;

  function showToast(message, level) {
    var region = document.getElementById("toasts");
    if (!region || !message) return;
    var toast = document.createElement("div");
    toast.className = "toast toast-" + (level || "success");
    toast.textContent = message; // text, never HTML
    toast.title = "Click to dismiss";
    region.appendChild(toast);
    while (region.children.length > MAX_TOASTS) region.firstElementChild.remove();
    window.setTimeout(function () { toast.remove(); }, TOAST_MS);
  }

  // Servers announce changes with HX-Trigger: {"toast": {"message": ..., "level": ...}}.
  document.body.addEventListener("toast", function (event) {
    showToast(event.detail.message, event.detail.level);
  });

  // A failed htmx request that the server did not explain still says something.
  document.body.addEventListener("htmx:responseError", function (event) {
    var xhr = event.detail.xhr;
    if (xhr && xhr.getResponseHeader("HX-Trigger")) return; // the server sent its own toast
    showToast("The request failed (" + (xhr ? xhr.status : "?") + "). Please try again.", "error");
  });
  document.body.addEventListener("htmx:sendError", function () {
    showToast("Keyhouse cannot be reached. Check your connection and try again.", "error");
  });

  document.body.addEventListener("click", function (event) {
    var toast = event.target.closest("#toasts .toast");
    if (toast) toast.remove();
  });

  // A revealed key is shown once: before anything replaces it, make sure it was copied.
  document.body.addEventListener("htmx:confirm", function (event) {
    var reveal = document.getElementById("reveal");
    var target = event.detail.target;
    if (!reveal || !target || !target.contains(reveal)) return;
    if (!window.confirm("The new key will not be shown again. Did you copy it?")) event.preventDefault();
  });

  // Toasts rendered with the page (flash messages) fade out too.
  document.querySelectorAll("#toasts .toast").forEach(function (toast) {
    window.setTimeout(function () { toast.remove(); }, TOAST_MS);
  });

  // Copy buttons: data-copy-target names the element whose text is copied.
  document.body.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy-target]");
    if (!button) return;
    var source = document.getElementById(button.getAttribute("data-copy-target"));
    if (!source) return;
    var text = source.value !== undefined ? source.value : source.textContent;
    function selectIt() {
      if (source.select) { source.select(); } else {
        var range = document.createRange();
        range.selectNodeContents(source);
        var selection = window.getSelection();
        selection.removeAllRanges();
        selection.addRange(range);
      }
    }
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(function () {
        showToast("Copied to the clipboard.");
      }, function () {
        selectIt();
        showToast("Press Ctrl+C (⌘C) to copy the selected key.", "info");
      });
    } else {
      selectIt();
      showToast("Press Ctrl+C (⌘C) to copy the selected key.", "info");
    }
  });

  // "Done", "Cancel", "Close": remove the panel they belong to (a revealed key is gone for good).
  document.body.addEventListener("click", function (event) {
    var dismiss = event.target.closest("[data-dismiss]");
    if (!dismiss) return;
    var panel = dismiss.closest("[data-dismissable]");
    if (!panel) return;
    event.preventDefault();
    panel.remove();
  });

  // Forms marked data-reset-after are emptied once htmx has sent them (pasted secrets).
  document.body.addEventListener("htmx:afterRequest", function (event) {
    var form = event.detail.elt && event.detail.elt.closest && event.detail.elt.closest("form[data-reset-after]");
    if (form) form.reset();
  });

  // The bell: its link opens a dropdown (loaded by htmx on "bell-open") instead of
  // the notifications page. The panel keeps its state when the poll swaps the bell
  // (hx-preserve); the link's aria-expanded is restored after each swap.
  function bellParts() {
    return { toggle: document.getElementById("bell-toggle"), panel: document.getElementById("bell-panel") };
  }
  function setBellOpen(open) {
    var bell = bellParts();
    if (!bell.toggle || !bell.panel) return;
    bell.panel.hidden = !open;
    bell.toggle.setAttribute("aria-expanded", open ? "true" : "false");
    var list = document.getElementById("bell-list");
    if (open && list && window.htmx) window.htmx.trigger(list, "bell-open");
  }
  document.addEventListener("click", function (event) {
    var bell = bellParts();
    if (!bell.panel) return;
    if (event.target.closest("#bell-toggle")) {
      event.preventDefault();
      setBellOpen(bell.panel.hidden);
    } else if (!bell.panel.hidden && (!event.target.closest("#bell") || event.target.closest("#bell-panel a[href^='/settings/']"))) {
      setBellOpen(false); // a click elsewhere, or following a notification to its key
    }
  });
  document.addEventListener("keydown", function (event) {
    var bell = bellParts();
    if (event.key === "Escape" && bell.panel && !bell.panel.hidden) {
      setBellOpen(false);
      bell.toggle.focus();
    }
  });
  document.body.addEventListener("htmx:afterSettle", function () {
    var bell = bellParts();
    if (bell.toggle && bell.panel) bell.toggle.setAttribute("aria-expanded", bell.panel.hidden ? "false" : "true");
  });

  // Close an open dropdown menu when clicking elsewhere.
  document.addEventListener("click", function (event) {
    document.querySelectorAll("details.menu[open]").forEach(function (menu) {
      if (!menu.contains(event.target)) menu.removeAttribute("open");
    });
  });
})();
