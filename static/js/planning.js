// Planning and team pages (no build step): the skill radar chart and the plan's
// "use the proposals" button.
(() => {
  document.addEventListener("DOMContentLoaded", () => {
    // Skill radar: the person's newest scores (and the previous ones) against the ideal.
    const canvas = document.getElementById("skill-radar");
    const source = document.getElementById("skill-radar-data");
    if (canvas && source && window.Chart) {
      const data = JSON.parse(source.textContent);
      const datasets = [];
      if (data.person.length) {
        datasets.push({
          label: data.person_label,
          data: data.person,
          borderColor: "#0d6efd",
          backgroundColor: "rgba(13, 110, 253, 0.2)",
          pointBackgroundColor: "#0d6efd",
        });
      }
      if (data.previous.length) {
        datasets.push({
          label: data.previous_label,
          data: data.previous,
          borderColor: "#6c757d",
          backgroundColor: "rgba(108, 117, 125, 0.08)",
          borderDash: [4, 3],
          pointRadius: 2,
        });
      }
      datasets.push({
        label: data.ideal_label,
        data: data.ideal,
        borderColor: "#198754",
        backgroundColor: "rgba(25, 135, 84, 0.05)",
        borderDash: [6, 4],
        pointBackgroundColor: "#198754",
      });
      canvas.chart = new window.Chart(canvas, {
        type: "radar",
        data: { labels: data.labels, datasets },
        options: {
          responsive: true,
          maintainAspectRatio: true,
          scales: { r: { min: 0, max: 100, ticks: { stepSize: 20, backdropColor: "transparent" } } },
          plugins: { legend: { position: "bottom" } },
        },
      });
      canvas.dataset.ready = "1";
    }

    // Plan targets: fill every editable amount with its proposal.
    const fill = document.querySelector("[data-fill-proposals]");
    if (fill) {
      fill.addEventListener("click", () => {
        document.querySelectorAll("input[data-proposed]").forEach((input) => {
          input.value = input.dataset.proposed;
        });
      });
    }
  });
})();
