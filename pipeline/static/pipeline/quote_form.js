// Quote editor: add lines from the formset's empty form and fill in a product's list price.
document.addEventListener("DOMContentLoaded", () => {
  const form = document.querySelector("[data-testid=quote-form]");
  if (!form) return;
  const total = form.querySelector("input[name$='-TOTAL_FORMS']");
  const lines = document.getElementById("quote-lines");
  const template = document.getElementById("quote-line-template");

  const fillPrice = (select) => {
    const option = select.selectedOptions[0];
    const line = select.closest(".quote-line");
    const price = line && line.querySelector("[data-role=unit-price]");
    if (!option || !price) return;
    price.placeholder = option.dataset.price || "";
    if (option.dataset.price && !price.value) price.value = option.dataset.price;
  };

  form.addEventListener("change", (event) => {
    if (event.target.matches("[data-role=product]")) fillPrice(event.target);
  });
  form.querySelectorAll("[data-role=product]").forEach((select) => {
    const option = select.selectedOptions[0];
    const line = select.closest(".quote-line");
    const price = line && line.querySelector("[data-role=unit-price]");
    if (option && price && option.dataset.price) price.placeholder = option.dataset.price;
  });

  form.querySelector("[data-add-line]").addEventListener("click", () => {
    const index = parseInt(total.value, 10);
    const html = template.innerHTML.replace(/__prefix__/g, String(index));
    lines.insertAdjacentHTML("beforeend", html);
    total.value = String(index + 1);
    const added = lines.lastElementChild.querySelector("select, input");
    if (added) added.focus();
  });
});
