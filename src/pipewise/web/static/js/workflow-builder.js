/* The workflow builder: show the chosen trigger's options, add / move / remove steps and
   condition rows. The server reads steps in the order the page lists them. */
(function () {
  "use strict";

  var form = document.getElementById("workflow-builder");
  if (!form) return;

  function fromTemplate(selector, replacements) {
    var html = form.querySelector(selector).innerHTML;
    Object.keys(replacements).forEach(function (key) {
      html = html.split(key).join(replacements[key]);
    });
    var holder = document.createElement("div");
    holder.innerHTML = html.trim();
    return holder.firstElementChild;
  }

  function showTrigger() {
    var chosen = form.querySelector("[data-trigger-select]").value;
    form.querySelectorAll("[data-trigger]").forEach(function (group) {
      var on = group.dataset.trigger === chosen;
      group.hidden = !on;
      group.disabled = !on;
    });
  }

  function offerFields() {
    var list = "fields-" + form.querySelector("[data-record-type]").value;
    form.querySelectorAll("[data-field-input]").forEach(function (input) {
      input.setAttribute("list", list);
    });
  }

  var stepList = form.querySelector("[data-step-list]");
  var nextStep = stepList.children.length;

  function addStep() {
    var type = form.querySelector("[data-new-step-type]").value;
    var n = nextStep++;
    var card = fromTemplate('[data-step-template="' + type + '"]', { __i__: String(n) });
    var taken = Array.prototype.map.call(form.querySelectorAll("[data-step-id]"), function (i) { return i.value; });
    var id = type, k = 2;
    while (taken.indexOf(id) !== -1) id = type + "-" + k++;
    card.querySelector("[data-step-id]").value = id;
    stepList.appendChild(card);
    card.querySelector("input:not([type=hidden]), select, textarea").focus();
  }

  function addRow(section) {
    var rows = section.querySelector("[data-condition-rows]");
    var n = Number(rows.dataset.next || 0);
    rows.dataset.next = String(n + 1);
    rows.appendChild(fromTemplate("[data-condition-template]", { __key__: section.dataset.conditions, __n__: String(n) }));
    offerFields();
  }

  form.addEventListener("click", function (event) {
    var target = event.target.closest("button");
    if (!target) return;
    var card = target.closest("[data-step]");
    if (target.hasAttribute("data-add-step")) addStep();
    else if (target.hasAttribute("data-add-row")) addRow(target.closest("[data-conditions]"));
    else if (target.hasAttribute("data-remove-row")) target.closest("[data-condition-row]").remove();
    else if (target.hasAttribute("data-remove-step")) card.remove();
    else if (target.dataset.move === "up" && card.previousElementSibling) stepList.insertBefore(card, card.previousElementSibling);
    else if (target.dataset.move === "down" && card.nextElementSibling) stepList.insertBefore(card.nextElementSibling, card);
  });
  // A saved view's filter is copied in: editing the view later leaves this workflow as it is.
  form.addEventListener("change", function (event) {
    if (!event.target.matches("[data-use-view]")) return;
    var option = event.target.selectedOptions[0];
    if (!option || !option.value) return;
    var section = event.target.closest("[data-conditions]");
    var box = section.querySelector("textarea");
    box.value = JSON.stringify(JSON.parse(option.dataset.filter), null, 2);
    box.closest("details").open = true;
    form.querySelector("[data-record-type]").value = option.dataset.recordType;
    offerFields();
  });
  form.querySelector("[data-trigger-select]").addEventListener("change", showTrigger);
  form.querySelector("[data-record-type]").addEventListener("change", offerFields);
  showTrigger();
  offerFields();
})();
