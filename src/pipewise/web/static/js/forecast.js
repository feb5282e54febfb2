/* The forecast page's snapshot trend chart (Chart.js), drawn from the canvas's data-chart. */
(function () {
  "use strict";
  var COLORS = { "Closed": "#16a34a", "Commit": "#6366f1", "Best case": "#f59e0b", "Pipeline": "#94a3b8" };

  function draw(canvas) {
    if (!window.Chart || !canvas || canvas.dataset.ready) return;
    canvas.dataset.ready = "1";
    var data = JSON.parse(canvas.dataset.chart);
    var datasets = Object.keys(data.series).map(function (name) {
      return { label: name, data: data.series[name], borderColor: COLORS[name], backgroundColor: COLORS[name], tension: 0.2 };
    });
    new Chart(canvas, {
      type: "line",
      data: { labels: data.labels, datasets: datasets },
      options: { maintainAspectRatio: false, scales: { y: { beginAtZero: true } } },
    });
  }

  document.addEventListener("DOMContentLoaded", function () { draw(document.getElementById("forecast-trend")); });
})();
