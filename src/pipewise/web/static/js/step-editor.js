/* The sequence step editor's merge-field and snippet pickers: insert the chosen
   placeholder where the cursor was in the variant's last focused field. */
(function () {
  "use strict";
  var last = {};
  document.addEventListener("focusin", function (e) {
    var box = e.target.closest && e.target.closest(".variant-editor");
    if (box && e.target.matches("input[type=text], textarea")) last[box.id] = e.target;
  });
  document.addEventListener("change", function (e) {
    var picker = e.target;
    if (!picker.matches || !picker.matches("select.merge-picker") || !picker.value) return;
    var box = picker.closest(".variant-editor");
    var field = last[box.id] || box.querySelector("textarea");
    var start = field.selectionStart == null ? field.value.length : field.selectionStart;
    var end = field.selectionEnd == null ? start : field.selectionEnd;
    field.value = field.value.slice(0, start) + picker.value + field.value.slice(end);
    field.focus();
    field.selectionStart = field.selectionEnd = start + picker.value.length;
    picker.value = "";
  });
})();
