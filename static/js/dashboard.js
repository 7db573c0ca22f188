// The statistics dashboard: fetches each chart's JSON (data-chart-url) and draws it with
// plotly.js. Loaded as a file: the Content-Security-Policy forbids inline scripts.
(function () {
  "use strict";

  // plotly.js ships English only; the Italian names of days and months for date axes.
  var ITALIAN = {
    moduleType: "locale",
    name: "it",
    dictionary: {
      "Download plot as a png": "Scarica il grafico come PNG",
      "Zoom in": "Ingrandisci",
      "Zoom out": "Riduci",
      "Reset axes": "Reimposta gli assi",
      "Autoscale": "Scala automatica",
      "Pan": "Sposta",
      "Zoom": "Zoom",
      "Box Select": "Selezione rettangolare",
      "Lasso Select": "Selezione lazo",
      "Toggle Spike Lines": "Mostra o nascondi le linee guida",
      "Show closest data on hover": "Mostra il dato più vicino",
      "Compare data on hover": "Confronta i dati",
      "Double-click on legend to isolate one trace": "Doppio clic sulla legenda per isolare una serie",
      "Double-click to zoom back out": "Doppio clic per tornare alla vista iniziale",
    },
    format: {
      days: ["Domenica", "Lunedì", "Martedì", "Mercoledì", "Giovedì", "Venerdì", "Sabato"],
      shortDays: ["Dom", "Lun", "Mar", "Mer", "Gio", "Ven", "Sab"],
      months: ["Gennaio", "Febbraio", "Marzo", "Aprile", "Maggio", "Giugno", "Luglio",
        "Agosto", "Settembre", "Ottobre", "Novembre", "Dicembre"],
      shortMonths: ["Gen", "Feb", "Mar", "Apr", "Mag", "Giu", "Lug", "Ago", "Set", "Ott", "Nov", "Dic"],
      date: "%d/%m/%Y",
      decimal: ",",
      thousands: ".",
    },
  };

  function language() {
    return (document.documentElement.getAttribute("lang") || "en").slice(0, 2);
  }

  function showStatus(container, text, state) {
    container.classList.remove("chart-loading");
    container.classList.add(state);
    var status = container.querySelector(".chart-status") || document.createElement("p");
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
        return window.Plotly.newPlot(container, chart.figure.data, chart.figure.layout, {
          displaylogo: false,
          responsive: true,
          locale: language(),
          modeBarButtonsToRemove: ["select2d", "lasso2d"],
        }).then(function () {
          container.dataset.drawn = "true";
        });
      })
      .catch(function () {
        showStatus(container, container.dataset.errorText, "chart-failed");
      });
  }

  document.addEventListener("DOMContentLoaded", function () {
    if (!window.Plotly) return;
    window.Plotly.register(ITALIAN);
    // One chart after the other, top first: the page fills in reading order and the server
    // answers one request of this page at a time.
    var charts = Array.prototype.slice.call(document.querySelectorAll("[data-chart-url]"));
    charts.reduce(function (previous, container) {
      return previous.then(function () { return draw(container); });
    }, Promise.resolve());
  });
})();
