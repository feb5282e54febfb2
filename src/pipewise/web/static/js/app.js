/* Pipewise web UI behaviour: the home chart, saving a
   list view, and the small behaviours pages ask for with data attributes (the pages carry
   no inline script; the Content-Security-Policy forbids it):
     <form data-confirm="Delete this?">        asks before submitting
     <select data-autosubmit>                   submits its form on change
     <select data-navigate="/x/{value}/y">      goes to the address with the chosen value */
(function () {
  "use strict";

  function initChart(canvas) {
    if (!window.Chart || canvas.dataset.ready) return;
    canvas.dataset.ready = "1";
    var data = JSON.parse(canvas.dataset.chart);
    new Chart(canvas, {
      type: "bar",
      data: {
        labels: data.labels,
        datasets: [{ label: "Open deals", data: data.counts, backgroundColor: "#6366f1", borderRadius: 4 }],
      },
      options: {
        plugins: { legend: { display: false } },
        scales: { y: { beginAtZero: true, ticks: { precision: 0 } } },
        maintainAspectRatio: false,
      },
    });
  }

  function init(root) {
    var scope = root || document;
    var chart = scope.querySelector && scope.querySelector("#stage-chart");
    if (chart) initChart(chart);
  }

  // Filters change the address through htmx; a view is saved with what the address says now.
  document.addEventListener("submit", function (evt) {
    if (evt.target.matches && evt.target.matches("[data-save-view]")) {
      evt.target.elements.query.value = window.location.search.replace(/^\?/, "");
    }
  });

  document.addEventListener("submit", function (evt) {
    var form = evt.target;
    if (form.matches && form.matches("[data-confirm]") && !window.confirm(form.dataset.confirm)) {
      evt.preventDefault();
      evt.stopImmediatePropagation();
    }
  }, true);

  document.addEventListener("change", function (evt) {
    var field = evt.target;
    if (!field.matches) return;
    if (field.matches("[data-autosubmit]") && field.form) {
      field.form.submit();
    } else if (field.matches("select[data-navigate]") && field.value) {
      window.location.href = field.dataset.navigate.replace("{value}", encodeURIComponent(field.value));
    }
  });

  document.addEventListener("DOMContentLoaded", function () {
    init(document);
    document.body.addEventListener("htmx:load", function (evt) { init(evt.target); });
  });
})();
