/* Pipewise web UI behaviour: the home chart, saving a
   list view, and the small behaviours pages ask for with data attributes (the pages carry
   no inline script; the Content-Security-Policy forbids it):
     <form data-confirm="Delete this?">        asks before submitting
     <select data-autosubmit>                   submits its form on change
     <select data-navigate="/x/{value}/y">      goes to the address with the chosen value
   It also opens the small-screen menu, shows the keyboard shortcuts on "?" (and follows
   "g" then a letter), and keeps the keyboard focus in place when HTMX swaps part of a page. */
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

  // -- the small-screen menu --
  document.addEventListener("click", function (evt) {
    var button = evt.target.closest && evt.target.closest("[data-nav-toggle]");
    if (!button) return;
    var open = button.getAttribute("aria-expanded") !== "true";
    button.setAttribute("aria-expanded", String(open));
    document.querySelector(".shell").classList.toggle("nav-open", open);
  });

  // -- keyboard shortcuts (listed in templates/_shortcuts.html) --
  var GO_TO = { h: "/", p: "/pipeline", t: "/today", l: "/lead-queue", c: "/contacts", d: "/deals" };
  var pendingGo = 0;

  function typing(target) {
    return target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName);
  }

  document.addEventListener("keydown", function (evt) {
    if (evt.key === "Escape") {
      var toggle = document.querySelector("[data-nav-toggle][aria-expanded=true]");
      if (toggle) { toggle.click(); toggle.focus(); }
      return;
    }
    if (evt.defaultPrevented || evt.ctrlKey || evt.metaKey || evt.altKey || typing(evt.target)) return;
    var dialog = document.getElementById("shortcuts");
    if (evt.key === "?" && dialog && !dialog.open) {
      evt.preventDefault();
      dialog.showModal();
    } else if (evt.key === "g") {
      pendingGo = Date.now();
    } else if (pendingGo && Date.now() - pendingGo < 1500 && GO_TO[evt.key]) {
      pendingGo = 0;
      window.location.href = GO_TO[evt.key];
    } else {
      pendingGo = 0;
    }
  });

  // -- focus across HTMX swaps: a control that was swapped away hands focus to its
  //    replacement (same id) or else to the swapped region, never to the page's top. --
  var focusBefore = null;
  document.addEventListener("htmx:beforeSwap", function (evt) {
    var active = document.activeElement;
    var target = evt.detail.target;
    focusBefore = active && active !== document.body && target && target.contains(active)
      ? { id: active.id, target: target.id }
      : null;
  });
  document.addEventListener("htmx:afterSettle", function () {
    if (!focusBefore) return;
    var kept = focusBefore;
    focusBefore = null;
    var active = document.activeElement;
    if (active && active !== document.body && active.isConnected) return;
    var next = (kept.id && document.getElementById(kept.id)) || (kept.target && document.getElementById(kept.target));
    if (!next) return;
    if (!next.matches("a[href], button, input, select, textarea, [tabindex]")) next.setAttribute("tabindex", "-1");
    next.focus({ preventScroll: true });
  });

  document.addEventListener("DOMContentLoaded", function () {
    init(document);
    document.body.addEventListener("htmx:load", function (evt) { init(evt.target); });
  });
})();
