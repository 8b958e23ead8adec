// Role dashboards (no build step): draw every chart from its JSON, and open the
// records behind a bar, slice or point when it is clicked (or tapped).
(() => {
  const palette = ["#0d6efd", "#198754", "#fd7e14", "#6f42c1", "#20c997", "#dc3545", "#6c757d", "#0dcaf0", "#ffc107", "#d63384"];
  const lang = document.documentElement.lang || "en";
  const moneyFmt = new Intl.NumberFormat(lang, { style: "currency", currency: "CNY", maximumFractionDigits: 0 });
  const numFmt = new Intl.NumberFormat(lang, { maximumFractionDigits: 1 });
  // Axes read at a glance (¥4B, ¥40亿); tooltips and tables keep every digit.
  const axisMoneyFmt = new Intl.NumberFormat(lang, {
    style: "currency", currency: "CNY", currencyDisplay: "narrowSymbol", notation: "compact", maximumFractionDigits: 1,
  });
  const axisNumFmt = new Intl.NumberFormat(lang, { notation: "compact", maximumFractionDigits: 1 });

  function format(spec, value) {
    if (value === null || value === undefined) return "—";
    if (spec.money) return moneyFmt.format(value);
    if (spec.percent) return `${numFmt.format(value)}%`;
    return numFmt.format(value);
  }

  function formatAxis(spec, value) {
    if (spec.money) return axisMoneyFmt.format(value);
    if (spec.percent) return `${numFmt.format(value)}%`;
    return axisNumFmt.format(value);
  }

  function urlFor(spec, datasetIndex, index) {
    const urls = spec.urls || [];
    const entry = urls[datasetIndex];
    if (Array.isArray(entry)) return entry[index] || null;
    return urls[index] || null;
  }

  function draw(canvas) {
    const source = document.getElementById(canvas.dataset.chart);
    if (!source || !window.Chart) return;
    const spec = JSON.parse(source.textContent);
    const round = spec.type === "doughnut" || spec.type === "pie";
    const datasets = spec.datasets.map((ds, i) => {
      const color = ds.color || palette[i % palette.length];
      const out = { ...ds };
      delete out.color;
      if (round) {
        out.backgroundColor = ds.colors || spec.labels.map((_, j) => palette[j % palette.length]);
      } else if (ds.type === "line" || spec.type === "line") {
        out.borderColor = color;
        out.backgroundColor = color;
        out.tension = 0.25;
        out.spanGaps = true;
      } else {
        out.backgroundColor = spec.labels.map((_, j) => (spec.highlight === j && i === 0 ? "#fd7e14" : color));
      }
      return out;
    });
    const scaleTicks = { callback: (value) => formatAxis(spec, value) };
    // Counts, days and scores step in whole numbers (no "0.5 campaigns" on the axis).
    if (!spec.money && !spec.percent) scaleTicks.precision = 0;
    const options = {
      responsive: true,
      maintainAspectRatio: false,
      indexAxis: spec.horizontal ? "y" : "x",
      plugins: {
        legend: { display: round || datasets.length > 1, position: "bottom" },
        tooltip: { callbacks: { label: (ctx) => `${ctx.dataset.label || ctx.label}: ${format(spec, ctx.raw)}` } },
      },
      onClick: (event, elements) => {
        if (!elements.length) return;
        const url = urlFor(spec, elements[0].datasetIndex, elements[0].index);
        if (url) window.location.assign(url);
      },
      onHover: (event, elements) => {
        const url = elements.length && urlFor(spec, elements[0].datasetIndex, elements[0].index);
        event.native.target.style.cursor = url ? "pointer" : "default";
      },
    };
    if (!round && spec.type !== "radar") {
      const valueAxis = spec.horizontal ? "x" : "y";
      const labelAxis = spec.horizontal ? "y" : "x";
      options.scales = {
        [valueAxis]: { beginAtZero: true, stacked: spec.stacked, ticks: scaleTicks },
        [labelAxis]: { stacked: spec.stacked },
      };
    }
    if (spec.type === "radar") {
      options.scales = { r: { min: 0, max: 100, ticks: { stepSize: 20, backdropColor: "transparent" } } };
    }
    canvas.chart = new window.Chart(canvas, { type: spec.type, data: { labels: spec.labels, datasets }, options });
    canvas.dataset.ready = "1";
  }

  document.addEventListener("DOMContentLoaded", () => {
    document.querySelectorAll("canvas[data-chart]").forEach(draw);
  });
})();
