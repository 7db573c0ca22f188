// The federation page: polls the runs in progress and reloads when they end; draws the chart
// of keys exchanged per country from its JSON, with plotly.js. Loaded as a file (the
// Content-Security-Policy forbids inline scripts).
(function () {
  "use strict";

  var POLL_MS = 1500;

  function getJson(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.json();
      });
  }

  // --- Runs in progress

  function update(card, progress) {
    card.querySelectorAll("[data-field]").forEach(function (element) {
      var value = progress[element.dataset.field];
      if (value !== undefined && value !== null) element.textContent = value;
    });
    card.dataset.status = progress.status;
  }

  function watch(card) {
    function poll() {
      getJson(card.dataset.progressUrl)
        .then(function (progress) {
          update(card, progress);
          if (progress.finished) {
            // The outcome, the figures and the history are rendered by the server.
            card.querySelector("[data-finished-note]").hidden = false;
            window.location.reload();
          } else {
            setTimeout(poll, POLL_MS);
          }
        })
        .catch(function () { setTimeout(poll, POLL_MS * 4); });
    }
    setTimeout(poll, POLL_MS);
  }

  // --- The chart (the dashboard's way: data-chart-url answers {empty, figure})

  function showStatus(container, text, state) {
    container.classList.remove("chart-loading");
    container.classList.add(state);
    var status = document.createElement("p");
    status.className = "chart-status";
    status.textContent = text;
    container.replaceChildren(status);
  }

  function draw(container) {
    if (!window.Plotly) {
      showStatus(container, container.dataset.errorText, "chart-failed");
      return;
    }
    getJson(container.dataset.chartUrl)
      .then(function (chart) {
        if (chart.empty) {
          showStatus(container, container.dataset.emptyText, "chart-empty");
          return;
        }
        container.classList.remove("chart-loading");
        container.replaceChildren();
        // No mode bar: its tooltips exist in English only.
        return window.Plotly.newPlot(container, chart.figure.data, chart.figure.layout, {
          displayModeBar: false,
          responsive: true,
          // plotly.js's official locale, loaded on Italian pages (vendor/plotly/plotly-locale-it.js).
          locale: document.documentElement.lang,
        }).then(function () { container.dataset.drawn = "true"; });
      })
      .catch(function () { showStatus(container, container.dataset.errorText, "chart-failed"); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-run-progress][data-active]").forEach(watch);
    document.querySelectorAll("[data-chart-url]").forEach(draw);
  });
})();
