// salesorg page behaviour shared by every page (no build step).
document.addEventListener("DOMContentLoaded", () => {
  // Submit the language switcher as soon as a language is picked.
  const select = document.getElementById("language-select");
  if (select) select.addEventListener("change", () => select.form.submit());
});
