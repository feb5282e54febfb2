/* Record lists: tick every row of the page at once, count the ticked rows, show the
   bulk bar's options for the chosen action and ask before a bulk delete. The bulk form
   (templates/records/_bulk_bar.html) works without this script too. */
(function () {
  "use strict";

  function bulkForm() { return document.querySelector("[data-bulk-bar]"); }

  function ticked(form) {
    return document.querySelectorAll('input[type=checkbox][form="' + form.id + '"]:checked');
  }

  function refresh() {
    var form = bulkForm();
    if (!form) return;
    var count = ticked(form).length;
    var label = form.querySelector("[data-bulk-count]");
    if (label) label.textContent = count ? count + " ticked" : "None ticked";
    var action = form.querySelector("[data-bulk-action]").value;
    form.querySelectorAll("[data-bulk-for]").forEach(function (part) {
      part.hidden = part.dataset.bulkFor !== action;
    });
  }

  document.addEventListener("change", function (evt) {
    var box = evt.target;
    if (box.matches && box.matches("[data-select-all]")) {
      var form = bulkForm();
      if (form) {
        document.querySelectorAll('input[type=checkbox][form="' + form.id + '"]').forEach(function (row) {
          row.checked = box.checked;
        });
      }
    }
    if (box.closest && (box.closest("[data-bulk-bar]") || box.matches("[form]") || box.matches("[data-select-all]"))) refresh();
  });

  document.addEventListener("submit", function (evt) {
    var form = evt.target;
    if (!form.matches || !form.matches("[data-bulk-bar]")) return;
    var action = form.querySelector("[data-bulk-action]").value;
    var count = ticked(form).length;
    if (action === "delete" && count && !window.confirm("Delete " + count + " record(s)? This cannot be undone.")) {
      evt.preventDefault();
    }
  });

  document.addEventListener("DOMContentLoaded", function () {
    refresh();
    document.body.addEventListener("htmx:afterSwap", refresh);
  });
})();
