// SLA clocks on /queue/: count down to each lead's due time (the page reads fine without this).
(function () {
  "use strict";
  function words(ms) {
    var s = Math.floor(Math.abs(ms) / 1000), d = Math.floor(s / 86400), h = Math.floor(s % 86400 / 3600),
        m = Math.floor(s % 3600 / 60);
    if (d) return d + " d " + h + " h";
    if (h) return h + " h " + m + " min";
    if (m >= 10) return m + " min";
    return m + " min " + (s % 60) + " s";
  }
  function tick() {
    var now = Date.now();
    document.querySelectorAll("time.countdown").forEach(function (el) {
      var left = Date.parse(el.getAttribute("datetime")) - now, box = el.closest(".sla");
      el.textContent = words(left);
      if (!box || box.dataset.sla === "met") return;
      if (left < 0 && box.dataset.sla === "running") {
        box.dataset.sla = "overdue";
        box.className = "sla sla-overdue";
        box.firstChild.textContent = "SLA overdue by ";
      } else if (left >= 0 && left < 5 * 60 * 1000) {
        box.classList.add("sla-soon");
      }
    });
  }
  tick();
  setInterval(tick, 1000);
})();
