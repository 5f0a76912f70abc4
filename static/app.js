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

  // ---------------------------------------------------------------- the app's own confirmations
  // askConfirm({title, message, ok, danger, typeToConfirm}) shows #confirm-dialog (base.html)
  // and calls back with true or false. Escape and "Cancel" say false. No window.confirm().
  function askConfirm(options, done) {
    var dialog = document.getElementById("confirm-dialog");
    if (!dialog || !dialog.showModal) { done(window.confirm(options.message)); return; }
    var okButton = dialog.querySelector("[data-confirm-ok]");
    var typed = dialog.querySelector("#confirm-typed");
    var typedField = dialog.querySelector("[data-confirm-type-field]");
    dialog.querySelector("#confirm-title").textContent = options.title || "Are you sure?";
    dialog.querySelector("#confirm-message").textContent = options.message || "";
    okButton.textContent = options.ok || "Continue";
    okButton.className = options.danger === false ? "primary" : "danger";
    var expected = options.typeToConfirm || "";
    typedField.hidden = !expected;
    typed.value = "";
    dialog.querySelector("#confirm-type-name").textContent = expected;
    okButton.disabled = Boolean(expected);
    typed.oninput = function () { okButton.disabled = typed.value.trim() !== expected; };
    var returnFocus = document.activeElement;
    function finish(answer) {
      dialog.onclose = null;
      if (dialog.open) dialog.close();
      if (returnFocus && returnFocus.isConnected) returnFocus.focus();
      done(answer);
    }
    okButton.onclick = function (event) { event.preventDefault(); if (!okButton.disabled) finish(true); };
    dialog.querySelector("[data-confirm-cancel]").onclick = function (event) { event.preventDefault(); finish(false); };
    dialog.onclose = function () { finish(false); };  // Escape
    dialog.showModal();
    (expected ? typed : dialog.querySelector("[data-confirm-cancel]")).focus();
  }

  function revealDialog() { return document.querySelector("dialog[data-reveal]"); }

  // Every hx-confirm (and replacing a revealed key) asks with the app's dialog.
  document.body.addEventListener("htmx:confirm", function (event) {
    var elt = event.detail.elt;
    var reveal = revealDialog();
    var target = event.detail.target;
    var options = null;
    if (reveal && target && target.contains(reveal) && reveal.getAttribute("data-copied") !== "true") {
      options = { title: "Leave the new key?", message: "The new key will not be shown again. Did you copy it?", ok: "Yes, I copied it" };
    } else if (elt.matches("form[data-roll-form]")) {
      var grace = elt.querySelector("input[name=grace]:checked");
      if (grace && grace.value === "none") {
        options = { title: "Stop the old key now?", message: elt.getAttribute("data-stop-now"), ok: "Roll and stop the old key" };
      }
    } else if (event.detail.question) {
      options = {
        title: elt.getAttribute("data-confirm-title"), message: event.detail.question,
        ok: elt.getAttribute("data-confirm-ok"), typeToConfirm: elt.getAttribute("data-confirm-type"),
      };
    }
    if (!options) return;
    event.preventDefault();
    askConfirm(options, function (yes) { if (yes) event.detail.issueRequest(true); });
  });

  // ---------------------------------------------------------------- the revealed key
  // The key is shown once, in a modal dialog that takes focus. Copy changes to
  // "Copied" in place; closing it before copying asks once; leaving the page asks.
  function openReveal(root) {
    var dialog = (root && root.matches && root.matches("dialog[data-reveal]")) ? root
      : (root && root.querySelector ? root.querySelector("dialog[data-reveal]") : null);
    if (!dialog || !dialog.showModal || dialog.matches(":modal")) return;
    if (dialog.open) dialog.close();  // rendered open, so that it shows without scripts too
    dialog.showModal();
    // A page answered to a form post names its own address: a reload then shows it, without posting again.
    var pageUrl = dialog.getAttribute("data-page-url");
    if (pageUrl) history.replaceState(null, "", pageUrl);
    var copy = dialog.querySelector("[data-copy-target]");
    if (copy) copy.focus();
  }
  function focusElement(element) {
    if (!element.matches("a, button, input, select, textarea, [tabindex]")) element.setAttribute("tabindex", "-1");
    element.focus();
  }
  var pendingFocus = null;  // an id to focus once the list that will hold it has refreshed
  function closeReveal(dialog) {
    var rowId = dialog.getAttribute("data-key-row");
    dialog.setAttribute("data-closing", "true");
    dialog.close();
    dialog.remove();
    var row = rowId && document.getElementById(rowId);
    if (row) { focusElement(row); return; }
    pendingFocus = rowId;  // the list is still refreshing (keys-changed)
    var heading = document.querySelector("#main h1");
    if (heading) focusElement(heading);
  }
  // A list that refreshes itself keeps the focus where it was (the same element by id).
  var keptFocus = null;
  document.body.addEventListener("htmx:beforeSwap", function (event) {
    var active = document.activeElement;
    var target = event.detail.target;
    keptFocus = target && active && active.id && active !== target && target.contains(active) ? active.id : null;
  });
  document.body.addEventListener("htmx:afterSettle", function () {
    var id = pendingFocus || keptFocus;
    var element = id && document.getElementById(id);
    if (element && element !== document.activeElement) { focusElement(element); pendingFocus = null; }
    keptFocus = null;
  });
  function leaveReveal(dialog) {
    if (dialog.getAttribute("data-copied") === "true") { closeReveal(dialog); return; }
    askConfirm({
      title: "Close without copying?",
      message: "You have not copied the key. Keyhouse will not show it again: if you close this, you will have to roll the key to get a new one.",
      ok: "Close without copying",
    }, function (yes) { if (yes) closeReveal(dialog); else { var copy = dialog.querySelector("[data-copy-target]"); if (copy) copy.focus(); } });
  }
  document.body.addEventListener("click", function (event) {
    var done = event.target.closest("[data-reveal-done]");
    if (!done) return;
    event.preventDefault();
    leaveReveal(done.closest("dialog[data-reveal]"));
  });
  document.addEventListener("cancel", function (event) {  // Escape on the reveal dialog
    if (event.target.matches && event.target.matches("dialog[data-reveal]")) {
      event.preventDefault();
      leaveReveal(event.target);
    }
  }, true);
  // Chromium closes a modal on a repeated Escape (no click in between) even when the
  // page cancels it: a reveal dialog that closed without closeReveal opens again.
  document.addEventListener("close", function (event) {
    var dialog = event.target;
    if (!(dialog.matches && dialog.matches("dialog[data-reveal]"))) return;
    if (dialog.open || dialog.getAttribute("data-closing") === "true" || !dialog.isConnected) return;
    dialog.showModal();
    var copy = dialog.querySelector("[data-copy-target]");
    if (copy) copy.focus();
  }, true);
  window.addEventListener("beforeunload", function (event) {
    var dialog = revealDialog();
    if (dialog && dialog.open) { event.preventDefault(); event.returnValue = ""; }
  });
  document.body.addEventListener("htmx:load", function (event) { openReveal(event.detail.elt); });

  // Bulk actions: "select all on this page" ticks (or clears) every row's box of that list.
  document.body.addEventListener("change", function (event) {
    var all = event.target.closest("[data-select-all]");
    if (all) {
      document.querySelectorAll('input[data-bulk-key][form="' + all.getAttribute("data-select-all") + '"]')
        .forEach(function (box) { box.checked = all.checked; });
    }
  });
  openReveal(document);

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
    function copied() {
      button.textContent = "Copied";
      button.classList.add("copied");
      var dialog = button.closest("dialog[data-reveal]");
      if (dialog) dialog.setAttribute("data-copied", "true");
      var status = document.getElementById(button.getAttribute("data-copy-status"));
      if (status) status.textContent = "Copied to the clipboard.";
    }
    function manual() {
      selectIt();
      var status = document.getElementById(button.getAttribute("data-copy-status"));
      if (status) status.textContent = "Press Ctrl+C (⌘C) to copy the selected key.";
      var dialog = button.closest("dialog[data-reveal]");
      if (dialog) source.addEventListener("copy", function () { copied(); }, { once: true });
    }
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(copied, manual);
    } else {
      manual();
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

  // ---------------------------------------------------------------- focus after swaps
  // A swapped row gets focus back on its first action; a removed row hands it to the next row.
  var nextFocus = null;
  document.body.addEventListener("htmx:beforeSwap", function (event) {
    var target = event.detail.target;
    nextFocus = null;
    if (target && target.matches && target.matches("tr.key-row") && !event.detail.serverResponse) {
      var next = target.nextElementSibling || target.previousElementSibling;
      nextFocus = next ? next.id : "keys";
    }
  });
  document.body.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail.target;
    if (nextFocus) {
      var next = document.getElementById(nextFocus);
      nextFocus = null;
      if (next) { next.setAttribute("tabindex", "-1"); next.focus(); }
      return;
    }
    if (target && target.id === "panel") { bringPanelIntoView(target); return; }
    if (!target || !target.id || !/^key-\d+$/.test(target.id)) return;
    var row = document.getElementById(target.id);
    if (!row) return;
    var focusable = row.querySelector("input:not([type=hidden]), .actions a, .actions button");
    if (focusable) focusable.focus();
  });

  // What opens in the panel above the lists (a form, the bulk confirmation) comes into
  // view with the focus on it, wherever on the page the link that opened it was.
  function bringPanelIntoView(panel) {
    if (!panel.firstElementChild || panel.querySelector("dialog[open]")) return;  // the reveal dialog focuses itself
    panel.scrollIntoView({ block: "start" });
    var first = panel.querySelector("[autofocus]") || panel.querySelector("h1, h2, h3") || panel.firstElementChild;
    if (first !== document.activeElement) focusElement(first);
  }

  // ---------------------------------------------------------------- small helpers
  // Live character counts: <input data-count-max="100" aria-describedby="...-count">.
  function updateCount(input) {
    var max = parseInt(input.getAttribute("data-count-max"), 10);
    var counter = document.getElementById(input.id + "-count");
    if (!counter || !max) return;
    var length = input.value.length;
    counter.textContent = length + " / " + max + (length > max ? " — too long by " + (length - max) : "");
    counter.classList.toggle("error", length > max);
  }
  document.body.addEventListener("input", function (event) {
    if (event.target.matches && event.target.matches("[data-count-max]")) updateCount(event.target);
  });
  function countAll(root) { (root.querySelectorAll ? root.querySelectorAll("[data-count-max]") : []).forEach(updateCount); }

  // Times in the viewer's own time zone: <time datetime="...Z" data-local>; UTC stays in the tooltip.
  var localFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
  function localTimes(root) {
    (root.querySelectorAll ? root.querySelectorAll("time[data-local]") : []).forEach(function (time) {
      var moment = new Date(time.getAttribute("datetime"));
      if (isNaN(moment)) return;
      if (!time.title) time.title = time.textContent.trim();
      time.textContent = localFormat.format(moment);
      time.removeAttribute("data-local");
    });
  }

  // A link to a key (?key=<id>) marks its row: scroll to it and give it focus.
  function showLinkedRow(root) {
    var row = root.querySelector ? root.querySelector("tr.key-row.linked") : null;
    if (!row || row.getAttribute("data-shown")) return;
    row.setAttribute("data-shown", "true");
    row.setAttribute("tabindex", "-1");
    row.scrollIntoView({ block: "center" });
    row.focus({ preventScroll: true });
  }

  function enhance(root) { countAll(root); localTimes(root); showLinkedRow(root); }
  document.body.addEventListener("htmx:load", function (event) { enhance(event.detail.elt); });
  enhance(document);
})();
