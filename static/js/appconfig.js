// The app settings pages: draws the risk preview (data-chart-url) with plotly.js, and enables
// the date and time of a scheduled publication only when "At a chosen time" is chosen.
// Loaded as a file: the Content-Security-Policy forbids inline scripts.
(function () {
  "use strict";

  function showStatus(container, text, state) {
    container.classList.remove("chart-loading");
    container.classList.add(state);
    var status = document.createElement("p");
    status.className = "chart-status";
    status.textContent = text;
    container.replaceChildren(status);
  }

  function draw(container) {
    return fetch(container.dataset.chartUrl, {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.json();
      })
      .then(function (chart) {
        if (chart.empty) {
          showStatus(container, container.dataset.emptyText, "chart-empty");
          return;
        }
        container.classList.remove("chart-loading");
        container.replaceChildren();
        var layout = chart.figure.layout;
        if (container.clientWidth < 600) {
          // A phone's width: upright names take less room than slanted ones.
          layout.xaxis.tickangle = -90;
          layout.height = 600;
        }
        return window.Plotly.newPlot(container, chart.figure.data, layout, {
          displayModeBar: false,
          responsive: true,
          // plotly.js's official locale, loaded on Italian pages (vendor/plotly/plotly-locale-it.js).
          locale: document.documentElement.lang,
        }).then(function () {
          container.dataset.drawn = "true";
        });
      })
      .catch(function () {
        showStatus(container, container.dataset.errorText, "chart-failed");
      });
  }

  function followSchedule(form) {
    var fields = form.querySelector("[data-schedule-fields]");
    if (!fields) return;
    var radios = form.querySelectorAll("input[name='when']");
    function update() {
      var later = form.querySelector("input[name='when']:checked");
      var enabled = later !== null && later.value === "later";
      fields.querySelectorAll("input").forEach(function (input) {
        input.disabled = !enabled;
      });
      fields.classList.toggle("schedule-off", !enabled);
    }
    radios.forEach(function (radio) {
      radio.addEventListener("change", update);
    });
    update();
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form[data-testid='publish-form']").forEach(followSchedule);
    if (!window.Plotly) return;
    document.querySelectorAll("[data-chart-url]").forEach(draw);
  });
})();
