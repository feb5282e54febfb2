/* The reports' chart: Chart.js draws what the page hands over in data-report-chart
   ({kind, labels, datasets: [{label, data}], stacked}); the page carries no inline script. */
(function () {
  "use strict";

  var COLOURS = ["#6366f1", "#10b981", "#f59e0b", "#ef4444", "#0ea5e9", "#8b5cf6"];

  function draw(canvas) {
    if (!window.Chart || canvas.dataset.ready) return;
    canvas.dataset.ready = "1";
    var spec = JSON.parse(canvas.dataset.reportChart);
    var line = spec.kind === "line";
    new Chart(canvas, {
      type: line ? "line" : "bar",
      data: {
        labels: spec.labels,
        datasets: spec.datasets.map(function (set, index) {
          var colour = COLOURS[index % COLOURS.length];
          return {
            label: set.label,
            data: set.data.map(function (value) { return value === null ? null : Number(value); }),
            backgroundColor: colour,
            borderColor: colour,
            borderRadius: line ? 0 : 4,
            tension: 0.25,
            fill: false,
          };
        }),
      },
      options: {
        maintainAspectRatio: false,
        interaction: { mode: "index", intersect: false },
        plugins: { legend: { display: spec.datasets.length > 1 } },
        scales: {
          x: { stacked: !!spec.stacked },
          y: { stacked: !!spec.stacked, beginAtZero: true },
        },
      },
    });
  }

  function init() {
    var canvas = document.getElementById("report-chart");
    if (canvas) draw(canvas);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
