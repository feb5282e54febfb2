/* The settings pages' behaviour (no inline script: the Content-Security-Policy forbids it).
     <ol id="stage-list" data-order-url>   stages reordered by dragging their handle
     <button data-add-row>                  adds a field row to the lead form builder
     <button data-copy="#input">            copies the input's value (a new API token) */
(function () {
  "use strict";

  function csrfToken() {
    try {
      return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRF-Token"] || "";
    } catch (e) {
      return "";
    }
  }

  function refreshMoveButtons(list) {
    var items = list.querySelectorAll(".stage-item");
    items.forEach(function (item, index) {
      var up = item.querySelector('button[value="up"]');
      var down = item.querySelector('button[value="down"]');
      if (up) up.disabled = index === 0;
      if (down) down.disabled = index === items.length - 1;
    });
  }

  function initStages(list) {
    if (!window.Sortable) return;
    var status = document.getElementById("order-status");
    new Sortable(list, {
      handle: ".stage-handle",
      animation: 150,
      ghostClass: "stage-ghost",
      onEnd: function () {
        var body = new URLSearchParams();
        list.querySelectorAll(".stage-item").forEach(function (item) {
          body.append("stage_id", item.dataset.stageId);
        });
        fetch(list.dataset.orderUrl, {
          method: "POST",
          body: body,
          credentials: "same-origin",
          headers: { "X-CSRF-Token": csrfToken() },
        }).then(function (response) {
          if (status) status.textContent = response.ok ? "Order saved." : "The order could not be saved; reload the page.";
          refreshMoveButtons(list);
        });
      },
    });
  }

  function addRow(button) {
    var rows = document.getElementById("builder-rows");
    var template = document.getElementById("builder-row-template");
    if (!rows || !template) return;
    var used = Array.prototype.map.call(rows.querySelectorAll("select[id$='-target']"), function (select) {
      return parseInt(select.id.replace(/^row|-target$/g, ""), 10);
    });
    var next = used.length ? Math.max.apply(null, used) + 1 : 0;
    if (next >= parseInt(rows.dataset.maxRows || "30", 10)) {
      button.disabled = true;
      return;
    }
    rows.insertAdjacentHTML("beforeend", template.innerHTML.replace(/__i__/g, String(next)));
    var added = rows.lastElementChild.querySelector("input");
    if (added) added.focus();
  }

  function copy(button) {
    var input = document.querySelector(button.dataset.copy);
    if (!input) return;
    input.select();
    var done = function () { button.textContent = "Copied"; };
    if (navigator.clipboard) navigator.clipboard.writeText(input.value).then(done, function () {});
  }

  document.addEventListener("click", function (event) {
    var target = event.target.closest && event.target.closest("[data-add-row], [data-copy]");
    if (!target) return;
    if (target.hasAttribute("data-add-row")) addRow(target);
    else copy(target);
  });

  document.addEventListener("DOMContentLoaded", function () {
    var stages = document.getElementById("stage-list");
    if (stages) initStages(stages);
  });
})();
