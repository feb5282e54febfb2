/* The pipeline board: drag a card to another column or onto a Won / Lost drop zone and
   the server answers with the whole board (templates/board/_board.html): the card where
   the service put it, or back in its column with a toast saying why, and the focus on
   that card so a keyboard user is where they were. */
(function () {
  "use strict";

  var TOAST_SECONDS = 6;

  function initBoard(board) {
    if (!window.Sortable || board.dataset.ready) return;
    board.dataset.ready = "1";
    board.querySelectorAll(".cards[data-stage-id]").forEach(function (list) {
      new Sortable(list, {
        group: "deals",
        animation: 150,
        filter: "select, a, input, .load-more",
        preventOnFilter: false,
        draggable: ".deal-card",
        ghostClass: "deal-card-ghost",
        onEnd: function (evt) {
          if (evt.from !== evt.to) move(board, evt.item.dataset.dealId, evt.to.dataset.stageId);
        },
      });
    });
    var focusId = board.dataset.focusDeal;
    if (focusId) {
      var card = board.querySelector('.deal-card[data-deal-id="' + focusId + '"]');
      if (card) {
        card.scrollIntoView({ block: "nearest", inline: "nearest" });
        card.focus({ preventScroll: true });
      }
    }
    var toast = board.querySelector(".board-toast.flash-success");
    if (toast) window.setTimeout(function () { toast.remove(); }, TOAST_SECONDS * 1000);
  }

  function move(board, dealId, stageId) {
    htmx.ajax("POST", board.dataset.moveUrl, {
      target: "#board",
      swap: "outerHTML",
      values: { deal_id: dealId, stage_id: stageId },
    });
  }

  // A card's stage menu moves it like a drag does (keyboard and screen-reader users).
  document.addEventListener("change", function (evt) {
    var menu = evt.target;
    if (!menu.matches || !menu.matches("[data-move-card]")) return;
    var board = menu.closest("#board");
    var card = menu.closest(".deal-card");
    if (board && card) move(board, card.dataset.dealId, menu.value);
  });

  function init(root) {
    var scope = root || document;
    var board = scope.id === "board" ? scope : scope.querySelector && scope.querySelector("#board");
    if (board) initBoard(board);
  }

  document.addEventListener("click", function (evt) {
    var close = evt.target.closest && evt.target.closest(".board-toast-close");
    if (close) close.closest(".board-toast").remove();
  });

  document.addEventListener("DOMContentLoaded", function () {
    init(document);
    document.body.addEventListener("htmx:load", function (evt) { init(evt.target); });
  });
})();
