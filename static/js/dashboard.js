// The statistics dashboard: draws each chart's figure with plotly.js. The figures come in the
// page (a JSON script element per chart, data-figure-id), so the first screen needs no further
// request; a chart without one is fetched from its endpoint (data-chart-url). Loaded as a file:
// the Content-Security-Policy forbids inline scripts.
(function () {
  "use strict";

  function language() {
    return (document.documentElement.getAttribute("lang") || "en").slice(0, 2);
  }

  // What plotly.js's locale (the official one, vendor/plotly/plotly-locale-it.js, loaded on
  // Italian pages) does not say as the site writes it. Dates put the day before the month in
  // every language ("10 mar", "10 Mar"). Italian month and day names are lowercase
  // ("martedì 10 marzo 2026"), where plotly's Italian locale capitalises them: they come from
  // the browser's own Intl data for the page's language instead.
  function localeOverrides(lang) {
    var format = { dayMonth: "%-d %b", dayMonthYear: "%-d %b %Y", month: "%b %Y" };
    if (lang !== "en" && window.Intl && Intl.DateTimeFormat) {
      var names = function (options, dates) {
        var formatter = new Intl.DateTimeFormat(lang, Object.assign({ timeZone: "UTC" }, options));
        return dates.map(function (date) { return formatter.format(date); });
      };
      var months = [], days = [];
      for (var m = 0; m < 12; m++) months.push(new Date(Date.UTC(2026, m, 1)));
      // 4 January 2026 was a Sunday: plotly.js lists days from Sunday.
      for (var d = 0; d < 7; d++) days.push(new Date(Date.UTC(2026, 0, 4 + d)));
      format.months = names({ month: "long" }, months);
      format.shortMonths = names({ month: "short" }, months).map(function (name) {
        return name.replace(/\.$/, "");
      });
      format.days = names({ weekday: "long" }, days);
      format.shortDays = names({ weekday: "short" }, days);
    }
    var locales = {};
    locales[lang] = { format: format };
    return locales;
  }

  function showStatus(container, text, state) {
    container.classList.remove("chart-loading");
    container.classList.add(state);
    var status = document.createElement("p");
    status.className = "chart-status";
    status.textContent = text;
    container.replaceChildren(status);
  }

  function figureOf(container) {
    var embedded = document.getElementById(container.dataset.figureId || "");
    if (embedded) return Promise.resolve(JSON.parse(embedded.textContent));
    return fetch(container.dataset.chartUrl, {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    }).then(function (response) {
      if (!response.ok) throw new Error("HTTP " + response.status);
      return response.json();
    });
  }

  function draw(container, config) {
    return figureOf(container)
      .then(function (chart) {
        if (chart.empty) {
          showStatus(container, container.dataset.emptyText, "chart-empty");
          return;
        }
        container.classList.remove("chart-loading");
        container.replaceChildren();
        return window.Plotly.newPlot(container, chart.figure.data, chart.figure.layout, config)
          .then(function () {
            container.dataset.drawn = "true";
          });
      })
      .catch(function () {
        showStatus(container, container.dataset.errorText, "chart-failed");
      });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var charts = Array.prototype.slice.call(document.querySelectorAll("[data-chart-url]"));
    if (!window.Plotly) {
      charts.forEach(function (container) {
        showStatus(container, container.dataset.errorText, "chart-failed");
      });
      return;
    }
    var lang = language();
    var config = {
      displaylogo: false,
      responsive: true,
      locale: lang,
      locales: localeOverrides(lang),
      modeBarButtonsToRemove: ["select2d", "lasso2d"],
    };
    // In reading order, each chart started once the one above is drawn: the first screen is
    // drawn first, and the browser paints between charts.
    charts
      .reduce(function (previous, container) {
        return previous.then(function () { return draw(container, config); });
      }, Promise.resolve())
      .then(function () {
        // The benchmark (benchmarks/dashboard_browser.py) reads this mark.
        if (window.performance && performance.mark) performance.mark("dashboard-charts-drawn");
        document.documentElement.dataset.chartsDrawn = "true";
      });
  });
})();
