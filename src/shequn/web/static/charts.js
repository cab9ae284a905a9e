// Draw every chart of the page from its JSON block (no inline script: CSP-safe).
// A chart element names its data block: <div class="chart" data-chart="ID">,
// <script type="application/json" id="ID">{"days": [...], "series": [...]}</script>.
(function () {
  "use strict";
  function option(spec) {
    var bar = spec.funnel === true;
    return {
      animation: false,
      tooltip: { trigger: "axis" },
      legend: { top: 0 },
      grid: { left: 48, right: 16, top: 32, bottom: 32, containLabel: true },
      xAxis: { type: "category", data: spec.days },
      yAxis: spec.dual ? [{ type: "value" }, { type: "value" }] : { type: "value" },
      series: spec.series.map(function (s, i) {
        return {
          name: s.label, type: bar ? "bar" : "line", data: s.data, showSymbol: false,
          yAxisIndex: spec.dual ? i : 0
        };
      })
    };
  }
  function draw() {
    document.querySelectorAll("[data-chart]").forEach(function (el) {
      var block = document.getElementById(el.getAttribute("data-chart"));
      if (!block || typeof echarts === "undefined") { return; }
      var chart = echarts.getInstanceByDom(el) || echarts.init(el);
      chart.setOption(option(JSON.parse(block.textContent)));
    });
  }
  window.addEventListener("resize", function () {
    document.querySelectorAll("[data-chart]").forEach(function (el) {
      var chart = echarts.getInstanceByDom(el);
      if (chart) { chart.resize(); }
    });
  });
  document.addEventListener("DOMContentLoaded", draw);
  document.addEventListener("htmx:afterSettle", draw);
})();
