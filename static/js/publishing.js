// The publication page: polls the running publication's progress and reloads when it ends.
// Loaded as a file (the Content-Security-Policy forbids inline scripts).
(function () {
  "use strict";

  var POLL_MS = 1500;
  var ACTIVE = ["queued", "running"];

  function update(panel, progress) {
    panel.querySelectorAll("[data-field]").forEach(function (element) {
      var value = progress[element.dataset.field];
      if (value !== undefined && value !== null) element.textContent = value;
    });
    var bar = panel.querySelector("[data-progress-bar]");
    if (bar) {
      bar.max = Math.max(progress.files_total, 1);
      bar.value = progress.files_written;
    }
  }

  function watch(panel) {
    var url = panel.dataset.progressUrl;
    function poll() {
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) {
          if (!response.ok) throw new Error(response.status);
          return response.json();
        })
        .then(function (progress) {
          update(panel, progress);
          if (progress.finished) {
            // The outcome and the new batches are rendered by the server.
            panel.querySelector("[data-finished-note]").hidden = false;
            window.location.reload();
          } else {
            setTimeout(poll, POLL_MS);
          }
        })
        .catch(function () { setTimeout(poll, POLL_MS * 4); });
    }
    setTimeout(poll, POLL_MS);
  }

  document.addEventListener("DOMContentLoaded", function () {
    var panel = document.querySelector("[data-publication-progress]");
    if (panel && ACTIVE.indexOf(panel.dataset.status) !== -1) watch(panel);
  });
})();
