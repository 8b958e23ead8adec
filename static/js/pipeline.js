// Pipeline pages (no build step): the client picker, the deal board's drag and drop,
// and htmx answers that carry a page to show (a conflict, a form with errors).
(() => {
  // 409 (someone else moved the deal) and 422 (say more / fix the form) come with the
  // board to show: swap it in like a success.
  document.addEventListener("htmx:beforeSwap", (event) => {
    const status = event.detail.xhr.status;
    if (status === 409 || status === 422) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  // Client picker: a search box whose results are buttons; picking fills the hidden id.
  document.addEventListener("click", (event) => {
    const button = event.target.closest("[data-pick-client]");
    if (!button) return;
    const picker = button.closest("[data-client-picker]");
    picker.querySelector("[data-picker-value]").value = button.dataset.pickClient;
    picker.querySelector("[data-picker-search]").value = button.dataset.name;
    picker.querySelector(".client-options").innerHTML = "";
  });

  // Board: dragging a card onto a column sets the card's stage select and submits it,
  // so drag and drop and the phone's select are one and the same move.
  let dragged = null;
  document.addEventListener("dragstart", (event) => {
    const card = event.target.closest && event.target.closest(".board-card[draggable=true]");
    if (!card) return;
    dragged = card;
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", card.dataset.deal);
    card.classList.add("opacity-50");
  });
  document.addEventListener("dragover", (event) => {
    const column = dragged && event.target.closest && event.target.closest(".board-column");
    if (!column) return;
    event.preventDefault();
    document.querySelectorAll(".board-column.drop-target").forEach((c) => {
      if (c !== column) c.classList.remove("drop-target");
    });
    column.classList.add("drop-target");
  });
  document.addEventListener("drop", (event) => {
    const column = dragged && event.target.closest && event.target.closest(".board-column");
    if (!column) return;
    event.preventDefault();
    column.classList.remove("drop-target");
    const select = dragged.querySelector("select[name=stage]");
    if (select && select.value !== column.dataset.stage) {
      select.value = column.dataset.stage;
      htmx.trigger(select.form, "change");
    }
  });
  document.addEventListener("dragend", () => {
    if (dragged) dragged.classList.remove("opacity-50");
    document.querySelectorAll(".board-column.drop-target").forEach((c) => c.classList.remove("drop-target"));
    dragged = null;
  });
})();
