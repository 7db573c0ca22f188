// Patient codes: a live countdown to a code's expiry, driven by data-expires-at.
(function () {
  "use strict";

  function pad(number) {
    return (number < 10 ? "0" : "") + number;
  }

  function countdowns() {
    document.querySelectorAll("[data-expires-at]").forEach(function (element) {
      var deadline = Date.parse(element.dataset.expiresAt);
      if (isNaN(deadline)) return;
      var timer;

      function tick() {
        var left = Math.floor((deadline - Date.now()) / 1000);
        if (left <= 0) {
          element.textContent = element.dataset.expiredText || "0:00:00";
          element.classList.add("is-expired");
          clearInterval(timer);
          return;
        }
        var hours = Math.floor(left / 3600);
        var minutes = Math.floor((left % 3600) / 60);
        element.textContent = hours + ":" + pad(minutes) + ":" + pad(left % 60);
      }

      tick();
      timer = setInterval(tick, 1000);
    });
  }

  document.addEventListener("DOMContentLoaded", countdowns);
})();
