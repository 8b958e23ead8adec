// Activity forms: show the fields that belong to the chosen type (SPIN notes
// for visits and meetings, a reason for follow-up calls) and add objection rows.
(() => {
  const chosenType = (form) => {
    const input = form.querySelector("input[data-activity-type]:checked, select[data-activity-type]");
    return input ? input.value : "";
  };
  const sync = (form) => {
    const type = chosenType(form);
    form.querySelectorAll("[data-for-types]").forEach((el) => {
      el.hidden = !el.dataset.forTypes.split(" ").includes(type);
    });
  };
  const init = () => {
    document.querySelectorAll("form[data-activity-form]").forEach((form) => {
      sync(form);
      form.addEventListener("change", (event) => {
        if (event.target.matches("[data-activity-type]")) sync(form);
      });
    });
    document.querySelectorAll("[data-formset-add]").forEach((button) => {
      button.addEventListener("click", () => {
        const prefix = button.dataset.formsetAdd;
        const total = document.getElementById(`id_${prefix}-TOTAL_FORMS`);
        const template = document.getElementById(`${prefix}-empty`);
        button.insertAdjacentHTML("beforebegin", template.innerHTML.replace(/__prefix__/g, total.value));
        total.value = String(parseInt(total.value, 10) + 1);
      });
    });
  };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
