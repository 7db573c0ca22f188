// Behaviour shared by every page: the menu button of narrow screens, session-expiry warning, copy
// and print buttons, confirmations.
// Loaded as a file (the Content-Security-Policy forbids inline scripts).
(function () {
  "use strict";

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  function formatSeconds(total) {
    var minutes = Math.floor(total / 60);
    var seconds = total % 60;
    return minutes + ":" + (seconds < 10 ? "0" : "") + seconds;
  }

  // Warn before the idle session ends; "stay logged in" pings the server, which slides it.
  // Tabs share the time of the last request through localStorage: activity in one tab keeps
  // the others from logging out a session that is still alive. When it has ended, the login
  // page brings the person back to this page (`next`, checked on the server: same site only).
  var ACTIVITY_KEY = "authority.session.last-activity";

  function sessionWarning() {
    var body = document.body;
    var lifetime = parseInt(body.dataset.sessionSeconds || "0", 10);
    if (!lifetime) return;
    var warnBefore = parseInt(body.dataset.sessionWarningSeconds || "120", 10);
    var panel = document.getElementById("session-warning");
    var countdown = panel.querySelector("[data-countdown]");
    var lastActivity;
    var timer;

    function sharedActivity() {
      try {
        return parseInt(window.localStorage.getItem(ACTIVITY_KEY) || "0", 10);
      } catch (error) {
        return 0;  // storage disabled: this tab's own clock only
      }
    }

    function reset() {
      lastActivity = Date.now();
      panel.hidden = true;
      try {
        window.localStorage.setItem(ACTIVITY_KEY, String(lastActivity));
      } catch (error) { /* storage disabled */ }
    }

    function toLogin() {
      clearInterval(timer);
      var here = window.location.pathname + window.location.search;
      window.location.assign(body.dataset.loginUrl + "&next=" + encodeURIComponent(here));
    }

    function tick() {
      var shared = sharedActivity();
      if (shared > lastActivity) {
        lastActivity = shared;  // another tab made a request since
        panel.hidden = true;
      }
      var left = Math.round((lastActivity + lifetime * 1000 - Date.now()) / 1000);
      if (left <= 0) {
        toLogin();
        return;
      }
      if (left <= warnBefore) {
        countdown.textContent = formatSeconds(left);
        if (panel.hidden) {
          panel.hidden = false;
          panel.querySelector("[data-keepalive]").focus();
        }
      }
    }

    panel.querySelector("[data-keepalive]").addEventListener("click", function () {
      fetch(body.dataset.keepaliveUrl, {
        method: "POST",
        headers: { "X-CSRFToken": csrfToken() },
        credentials: "same-origin",
        redirect: "manual",  // an ended session answers with a redirect to the login page
      }).then(function (response) {
        if (response.status === 204) reset();
        else toLogin();
      }, toLogin);
    });
    reset();
    timer = setInterval(tick, 1000);
  }

  // The menu button (narrow screens; css/app.css hides it on wider ones): opens and closes the
  // navigation it controls. Escape closes it from the button or a link, and gives the focus back
  // to the button, so that the keyboard is never left on a link that has just disappeared.
  function navigationMenu() {
    var toggle = document.querySelector("[data-nav-toggle]");
    if (!toggle) return;
    var menu = document.getElementById(toggle.getAttribute("aria-controls"));
    if (!menu) return;

    function isOpen() {
      return toggle.getAttribute("aria-expanded") === "true";
    }

    function setOpen(open) {
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
      menu.classList.toggle("app-nav-open", open);
    }

    toggle.addEventListener("click", function () { setOpen(!isOpen()); });
    document.addEventListener("keydown", function (event) {
      if (event.key !== "Escape" || !isOpen()) return;
      if (document.activeElement === toggle || menu.contains(document.activeElement)) {
        setOpen(false);
        toggle.focus();
      }
    });
  }

  function copyButtons() {
    document.querySelectorAll("[data-copy-target]").forEach(function (button) {
      button.addEventListener("click", function () {
        var source = document.getElementById(button.dataset.copyTarget);
        var text = source.dataset.copyValue || source.value || source.textContent.trim();
        var done = function () {
          var original = button.textContent;
          button.textContent = button.dataset.copiedText || "Copied";
          setTimeout(function () { button.textContent = original; }, 2000);
        };
        if (navigator.clipboard && window.isSecureContext) {
          navigator.clipboard.writeText(text).then(done);
        } else if (source.select) {
          source.select();
          document.execCommand("copy");
          done();
        }
      });
    });
  }

  function printButtons() {
    document.querySelectorAll("[data-print]").forEach(function (button) {
      button.addEventListener("click", function () { window.print(); });
    });
  }

  function confirmations() {
    document.querySelectorAll("form[data-confirm]").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        if (!window.confirm(form.dataset.confirm)) event.preventDefault();
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    navigationMenu();
    sessionWarning();
    copyButtons();
    printButtons();
    confirmations();
  });
})();
