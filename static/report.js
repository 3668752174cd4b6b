/* Draws each chart from its JSON block: visible charts first, the rest in the background. */
(function () {
  "use strict";

  var EMBED_OPTIONS = {
    renderer: "canvas",
    actions: false,
    ast: true,
    defaultStyle: false,
    tooltip: true
  };
  var pending = [];
  var drawn = new WeakSet();

  function specFor(element) {
    var block = document.getElementById(element.getAttribute("data-spec"));
    return block ? JSON.parse(block.textContent) : null;
  }

  function draw(element) {
    if (drawn.has(element)) { return Promise.resolve(); }
    drawn.add(element);
    var spec = specFor(element);
    if (!spec) { return Promise.resolve(); }
    var options = Object.assign({}, EMBED_OPTIONS);
    if (window.vega && window.vega.expressionInterpreter) {
      options.expr = window.vega.expressionInterpreter;
    }
    return window.vegaEmbed(element, spec, options).then(function (result) {
      element.setAttribute("data-drawn", "true");
      element.dispatchEvent(new CustomEvent("chart-drawn", { detail: result, bubbles: true }));
      return result;
    }).catch(function (error) {
      element.setAttribute("data-drawn", "error");
      element.textContent = "This chart could not be drawn: " + error.message;
    });
  }

  function fillInBackground() {
    var next = pending.shift();
    while (next && drawn.has(next)) { next = pending.shift(); }
    if (!next) { return; }
    draw(next).then(function () {
      var later = window.requestIdleCallback || function (fn) { return setTimeout(fn, 16); };
      later(fillInBackground);
    });
  }

  function drawAll() {
    return Promise.all(pending.splice(0).map(draw));
  }

  function start() {
    var charts = Array.prototype.slice.call(document.querySelectorAll(".chart[data-spec]"));
    pending = charts.slice();
    if ("IntersectionObserver" in window) {
      var observer = new IntersectionObserver(function (entries) {
        entries.forEach(function (entry) {
          if (entry.isIntersecting) {
            observer.unobserve(entry.target);
            draw(entry.target);
          }
        });
      }, { rootMargin: "200px" });
      charts.forEach(function (chart) { observer.observe(chart); });
      setTimeout(fillInBackground, 300);
    } else {
      drawAll();
    }
    window.addEventListener("beforeprint", drawAll);
  }

  window.reportgen = { draw: draw, drawAll: drawAll };
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
