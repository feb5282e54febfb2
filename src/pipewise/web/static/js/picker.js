/* Searchable pickers (templates/_picker.html): a combobox whose suggestions htmx loads
   from /web/lookup/<kind>, with the chosen id in a hidden input (or, for a multiple
   picker, one hidden input per chosen chip). Nothing changes unless an option is chosen
   or the box is emptied; typing and leaving puts the current value back. */
(function () {
  "use strict";

  function parts(picker) {
    return {
      input: picker.querySelector("[data-picker-input]"),
      value: picker.querySelector("[data-picker-value]"),
      list: picker.querySelector("[role=listbox]"),
      status: picker.querySelector("[data-picker-status]"),
      clear: picker.querySelector("[data-picker-clear]"),
      chosen: picker.querySelector("[data-picker-chosen]"),
    };
  }

  function options(list) {
    return Array.prototype.slice.call(list.querySelectorAll("[role=option]:not([aria-disabled=true])"));
  }

  function isOpen(p) { return !p.list.hidden; }

  function setActive(p, option) {
    p.list.querySelectorAll(".is-active").forEach(function (o) { o.classList.remove("is-active"); });
    if (option) {
      option.classList.add("is-active");
      p.input.setAttribute("aria-activedescendant", option.id);
      option.scrollIntoView({ block: "nearest" });
    } else {
      p.input.removeAttribute("aria-activedescendant");
    }
  }

  function open(p) {
    p.list.hidden = false;
    p.input.setAttribute("aria-expanded", "true");
  }

  function close(p) {
    p.list.hidden = true;
    p.input.setAttribute("aria-expanded", "false");
    setActive(p, null);
  }

  function changed(field) {
    field.dispatchEvent(new Event("change", { bubbles: true }));
  }

  function chosenIds(picker, p) {
    if (!p.chosen) return [p.value.value];
    return Array.prototype.map.call(p.chosen.querySelectorAll("input[type=hidden]"), function (i) { return i.value; });
  }

  function choose(picker, p, option) {
    var id = option.dataset.value, label = option.dataset.label;
    if (p.chosen) {
      if (chosenIds(picker, p).indexOf(id) < 0) {
        var chip = picker.querySelector("template[data-picker-chip]").content.firstElementChild.cloneNode(true);
        chip.querySelector("[data-chip-label]").textContent = label;
        chip.querySelector("input").value = id;
        chip.querySelector("[data-picker-remove]").setAttribute("aria-label", "Remove " + label);
        p.chosen.appendChild(chip);
        changed(chip.querySelector("input"));
      }
      p.input.value = "";
      p.status.textContent = label + " added.";
    } else {
      p.input.value = label;
      p.input.dataset.label = label;
      if (p.clear) p.clear.hidden = false;
      if (p.value.value !== id) {
        p.value.value = id;
        changed(p.value);
      }
      p.status.textContent = label + " chosen.";
    }
    close(p);
  }

  function clearValue(p) {
    p.input.value = "";
    p.input.dataset.label = "";
    if (p.clear) p.clear.hidden = true;
    if (p.value.value !== "") {
      p.value.value = "";
      changed(p.value);
    }
  }

  // Leaving the box: an emptied single picker is cleared on purpose; anything else
  // typed but not chosen gives way to the current value.
  function settle(p) {
    close(p);
    if (p.chosen) return;
    if (p.input.value.trim() === "") clearValue(p);
    else p.input.value = p.input.dataset.label || "";
  }

  function move(p, step) {
    var all = p.list.getAttribute("aria-busy") === "true" ? [] : options(p.list);
    if (!all.length) return;
    var at = all.indexOf(p.list.querySelector(".is-active"));
    var next = at < 0 ? (step > 0 ? 0 : all.length - 1) : (at + step + all.length) % all.length;
    setActive(p, all[next]);
  }

  function refocus(picker, p) {
    if (document.activeElement === p.input) return;
    picker.dataset.quiet = "1";
    p.input.focus();
    delete picker.dataset.quiet;  // htmx asks (and is told no) during focus()
  }

  function pickerOf(el) { return el.closest && el.closest("[data-picker]"); }

  document.addEventListener("htmx:configRequest", function (evt) {
    var input = evt.detail.elt;
    if (!input.matches || !input.matches("[data-picker-input]")) return;
    var picker = pickerOf(input), p = parts(picker);
    if (picker.dataset.quiet) {  // focus given back after a clear or a removal: no list
      delete picker.dataset.quiet;
      evt.preventDefault();
      return;
    }
    // An untouched single picker shows everything, its current value first.
    var untouched = !p.chosen && input.value === (input.dataset.label || "");
    evt.detail.parameters.q = untouched ? "" : input.value;
    if (untouched && p.value.value) evt.detail.parameters.selected = p.value.value;
  });

  document.addEventListener("htmx:afterSwap", function (evt) {
    var list = evt.detail.target;
    if (!list.matches || !list.matches("[data-picker] [role=listbox]")) return;
    var picker = pickerOf(list), p = parts(picker), ids = chosenIds(picker, p);
    if (document.activeElement !== p.input) return;
    Array.prototype.forEach.call(list.querySelectorAll("[role=option]"), function (o, i) {
      o.id = list.id + "-" + i;
      o.setAttribute("aria-selected", ids.indexOf(o.dataset.value) >= 0 ? "true" : "false");
    });
    var count = options(list).length;
    p.status.textContent = count ? count + (count === 1 ? " suggestion." : " suggestions.") : "No matches.";
    list.removeAttribute("aria-busy");
    open(p);
    setActive(p, null);
  });

  // While new suggestions are on their way the old ones cannot be chosen.
  document.addEventListener("input", function (evt) {
    if (!evt.target.matches || !evt.target.matches("[data-picker-input]")) return;
    var p = parts(pickerOf(evt.target));
    p.list.setAttribute("aria-busy", "true");
    setActive(p, null);
  });

  document.addEventListener("keydown", function (evt) {
    var input = evt.target;
    if (!input.matches || !input.matches("[data-picker-input]")) return;
    var picker = pickerOf(input), p = parts(picker);
    if (evt.key === "ArrowDown" || evt.key === "ArrowUp") {
      evt.preventDefault();
      if (!isOpen(p)) {
        if (options(p.list).length) open(p);
        else { htmx.trigger(input, "picker-search"); return; }
      }
      move(p, evt.key === "ArrowDown" ? 1 : -1);
    } else if (evt.key === "Enter") {
      if (!isOpen(p)) return;
      evt.preventDefault();  // Enter picks from the list; it does not send the form
      var active = p.list.querySelector(".is-active");
      if (active && p.list.getAttribute("aria-busy") !== "true") choose(picker, p, active);
    } else if (evt.key === "Escape") {
      if (isOpen(p)) { evt.preventDefault(); close(p); }
      else p.input.value = p.chosen ? "" : p.input.dataset.label || "";
    }
  });

  // Keep the focus in the box while an option is clicked, then take the option.
  document.addEventListener("mousedown", function (evt) {
    if (evt.target.closest && evt.target.closest("[data-picker] [role=listbox]")) evt.preventDefault();
  });

  document.addEventListener("click", function (evt) {
    var target = evt.target;
    if (!target.closest) return;
    var picker = pickerOf(target);
    if (!picker) return;
    var p = parts(picker);
    var option = target.closest("[role=option]:not([aria-disabled=true])");
    if (option && p.list.contains(option)) {
      choose(picker, p, option);
    } else if (target.closest("[data-picker-clear]")) {
      clearValue(p);
      p.status.textContent = "Cleared.";
      refocus(picker, p);
    } else if (target.closest("[data-picker-remove]")) {
      target.closest(".picker-chip").remove();
      changed(picker);
      p.status.textContent = "Removed.";
      refocus(picker, p);
    }
  });

  document.addEventListener("focusout", function (evt) {
    var input = evt.target;
    if (input.matches && input.matches("[data-picker-input]")) settle(parts(pickerOf(input)));
  });

  // What is typed in the box is a search, not a value: forms listening for changes
  // (the list filters) react to the hidden input instead.
  document.addEventListener("change", function (evt) {
    if (evt.target.matches && evt.target.matches("[data-picker-input]")) evt.stopPropagation();
  }, true);
})();
