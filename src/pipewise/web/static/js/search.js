/* The search palette: Ctrl/Cmd-K or "/" opens it from anywhere, the arrow keys move
   through the matches, Enter opens the chosen one, Esc closes. The matches come from
   GET /search through htmx (templates/search/_palette.html). */
(function () {
  "use strict";

  var active = -1;

  function dialog() { return document.getElementById("search-dialog"); }
  function input() { return document.getElementById("search-q"); }
  function options() {
    var found = document.getElementById("search-found");
    return found ? Array.prototype.slice.call(found.querySelectorAll("[role=option]")) : [];
  }

  function choose(index) {
    var items = options();
    var field = input();
    active = items.length ? (index + items.length) % items.length : -1;
    items.forEach(function (item, i) {
      item.setAttribute("aria-selected", i === active ? "true" : "false");
      item.classList.toggle("search-option-active", i === active);
    });
    if (!field) return;
    field.setAttribute("aria-expanded", items.length ? "true" : "false");
    if (active >= 0) {
      field.setAttribute("aria-activedescendant", items[active].id);
      items[active].scrollIntoView({ block: "nearest" });
    } else {
      field.removeAttribute("aria-activedescendant");
    }
  }

  var returnTo = null;

  function open() {
    var box = dialog();
    if (!box) return false;
    if (!box.open) {
      returnTo = document.activeElement;
      box.showModal();
    }
    var field = input();
    field.focus();
    field.select();
    return true;
  }

  var NOT_TYPED = /^(checkbox|radio|button|submit|reset|range|color|file|image)$/;

  function typing(target) {
    if (target.tagName === "INPUT") return !NOT_TYPED.test(target.type);
    return target.isContentEditable || /^(TEXTAREA|SELECT)$/.test(target.tagName);
  }

  document.addEventListener("keydown", function (evt) {
    var shortcut = (evt.ctrlKey || evt.metaKey) && !evt.altKey && (evt.key === "k" || evt.key === "K");
    var slash = evt.key === "/" && !evt.ctrlKey && !evt.metaKey && !evt.altKey && !typing(evt.target);
    if ((shortcut || slash) && open()) {
      evt.preventDefault();
      return;
    }
    if (evt.target !== input()) return;
    if (evt.key === "Escape") {
      // A search field would only clear itself on the first Esc; close at once.
      evt.preventDefault();
      dialog().close();
    } else if (evt.key === "ArrowDown" || evt.key === "ArrowUp") {
      evt.preventDefault();
      choose(active + (evt.key === "ArrowDown" ? 1 : -1));
    } else if (evt.key === "Enter" && active >= 0 && options()[active]) {
      evt.preventDefault();
      window.location.href = options()[active].dataset.url;
    }
  });

  document.addEventListener("click", function (evt) {
    var opener = evt.target.closest && evt.target.closest(".search-open");
    if (opener && open()) {
      evt.preventDefault();
      return;
    }
    var box = dialog();
    if (box && evt.target === box) box.close(); // a click on the backdrop
  });

  // Closed, the palette gives the focus back to where it was (not to its hidden field).
  document.addEventListener("close", function (evt) {
    if (evt.target !== dialog()) return;
    input().blur();
    if (returnTo && returnTo !== document.body && returnTo.focus) returnTo.focus();
    returnTo = null;
  }, true);

  document.addEventListener("htmx:afterSwap", function (evt) {
    if (evt.target && evt.target.id === "search-found") choose(0);
  });
})();
