/* reportgen's page script: draws each chart from its JSON block (visible charts first, the rest
   in the background, all of them before printing) and filters the example explorer.
   Dataset text is only ever read from JSON blocks and handed to Vega as data; this script never
   evaluates strings and never writes HTML. */
(function () {
  "use strict";

  /* The export menu saves a chart as SVG or PNG, made in the page from the drawn view (nothing leaves it). */
  var EMBED_OPTIONS = {
    renderer: "canvas",
    actions: { export: true, source: false, compiled: false, editor: false },
    ast: true,
    defaultStyle: false,
    tooltip: true
  };
  var pending = [];
  var drawn = new WeakSet();
  var views = {};  /* chart id -> its Vega view, for reportgen.view */
  var firstDrawn = null;

  function block(id) {
    var element = id ? document.getElementById(id) : null;
    return element ? JSON.parse(element.textContent) : null;
  }

  /* A chart's spec: its own block, or a shared template joined with the chart's named datasets.
     Each chart parses its own copy, so no two Vega views share data objects. */
  function specFor(element) {
    var spec = block(element.getAttribute("data-spec"));
    var dataId = element.getAttribute("data-datasets");
    if (spec && dataId) { spec.datasets = block(dataId); }
    return spec;
  }

  function draw(element) {
    if (drawn.has(element)) { return Promise.resolve(); }
    drawn.add(element);
    var spec;
    try {
      spec = specFor(element);
    } catch (error) {
      element.setAttribute("data-drawn", "error");
      element.textContent = "This chart's data could not be read: " + error.message;
      return Promise.resolve();
    }
    if (!spec) { return Promise.resolve(); }
    /* ast: true makes vega-embed evaluate expressions with its bundled interpreter: no eval, so the
       page's Content-Security-Policy needs no 'unsafe-eval'. */
    var options = Object.assign({}, EMBED_OPTIONS, { downloadFileName: element.id });
    return window.vegaEmbed(element, spec, options).then(function (result) {
      element.setAttribute("data-drawn", "true");
      if (firstDrawn === null) {
        firstDrawn = performance.now();
        document.documentElement.setAttribute("data-first-chart-ms", firstDrawn.toFixed(1));
      }
      views[element.id] = result.view;
      element.style.minHeight = "";
      reserveLike(element);
      if (element.hasAttribute("data-opens")) { listOnClick(element, result.view); }
      element.dispatchEvent(new CustomEvent("chart-drawn", { detail: result, bubbles: true }));
      return result;
    }).catch(function (error) {
      element.setAttribute("data-drawn", "error");
      element.textContent = "This chart could not be drawn: " + error.message;
    });
  }

  /* Charts of one shared template (the explorer's heatmaps) have about the same height: once one is drawn,
     the others reserve it, so the page does not grow under the reader while they draw. */
  var reserved = {};

  function reserveLike(element) {
    var template = element.getAttribute("data-datasets") ? element.getAttribute("data-spec") : null;
    if (!template || reserved[template]) { return; }
    reserved[template] = element.offsetHeight;
    var height = element.offsetHeight + "px";
    Array.prototype.forEach.call(document.querySelectorAll(".chart[data-spec='" + template + "']"), function (other) {
      if (!drawn.has(other)) { other.style.minHeight = height; }
    });
  }

  var later = window.requestIdleCallback || function (fn) { return setTimeout(fn, 16); };

  /* The background fill skips charts of closed or filtered-out examples: a thousand examples would
     otherwise hold thousands of canvases. They are drawn when opened or shown, and before printing. */
  var cursor = 0;

  function nextInBackground() {
    while (cursor < pending.length) {
      var element = pending[cursor];
      cursor += 1;
      if (!drawn.has(element) && !element.closest("details:not([open]), [hidden]")) { return element; }
    }
    return null;
  }

  function fillInBackground() {
    var next = nextInBackground();
    if (!next) { return; }
    draw(next).then(function () { later(fillInBackground); });
  }

  /* Draws every chart not drawn yet; resolves to how many it started. */
  function drawAll() {
    var left = pending.filter(function (element) { return !drawn.has(element); });
    return Promise.all(left.map(draw)).then(function (results) { return results.length; });
  }

  /* ------------------------------------------------------------------ example filters */

  function filterValue(form, name) {
    var control = form.querySelector("[data-filter='" + name + "']");
    if (!control) { return ""; }
    return control.type === "checkbox" ? (control.checked ? "1" : "") : control.value;
  }

  function applyFilters() {
    var form = document.getElementById("example-filters");
    if (!form) { return 0; }
    var label = filterValue(form, "label");
    var prediction = filterValue(form, "prediction");
    var correct = filterValue(form, "correct");
    var attention = filterValue(form, "attention");
    var low = parseFloat(filterValue(form, "min"));
    var high = parseFloat(filterValue(form, "max"));
    var narrowed = (!isNaN(low) && low > 0) || (!isNaN(high) && high < 1);
    var examples = document.querySelectorAll("article.example");
    var shown = 0;
    Array.prototype.forEach.call(examples, function (article) {
      var data = article.dataset;
      var confidence = parseFloat(data.confidence);
      var keep = (label === "" || data.label === label) &&
        (prediction === "" || data.prediction === prediction) &&
        (correct === "" || data.correct === correct) &&
        (attention === "" || data.attention === "1");
      if (keep && narrowed) {
        keep = !isNaN(confidence) && (isNaN(low) || confidence >= low) && (isNaN(high) || confidence <= high);
      }
      article.hidden = !keep;
      if (keep) { shown += 1; }
    });
    var count = document.getElementById("examples-count");
    if (count) { count.textContent = shown + " of " + examples.length + " examples"; }
    var none = document.getElementById("examples-none");
    if (none) { none.hidden = shown > 0; }
    return shown;
  }

  function setOpen(open) {
    Array.prototype.forEach.call(document.querySelectorAll("article.example"), function (article) {
      if (article.hidden) { return; }
      var details = article.querySelector("details");
      if (details) { details.open = open; }
    });
  }

  /* The explorer's order: a data-* number of each example, ascending ("-name": descending); examples
     without the number go last, and ties keep the review order. Moves the articles; writes no HTML. */
  function sortExamples(key) {
    var list = document.getElementById("examples-list");
    if (!list) { return; }
    var descending = key.charAt(0) === "-";
    var name = descending ? key.slice(1) : key;
    var articles = Array.prototype.slice.call(list.querySelectorAll("article.example"));
    function value(article) {
      var number = parseFloat(article.dataset[name]);
      return isNaN(number) ? null : (descending ? -number : number);
    }
    articles.sort(function (a, b) {
      var x = value(a), y = value(b);
      if (x !== y) {
        if (x === null) { return 1; }
        if (y === null) { return -1; }
        return x - y;
      }
      return parseFloat(a.dataset.order) - parseFloat(b.dataset.order);
    });
    articles.forEach(function (article) { list.appendChild(article); });
  }

  /* A link to an element of the page (an example, a chart, a table) shows it: filters that hide it are
     cleared, the details around it opened, and it is scrolled to below the sticky bars. */
  function reveal() {
    var id = decodeURIComponent(location.hash.slice(1));
    var target = id ? document.getElementById(id) : null;
    if (!target) { return; }
    var article = target.closest("article.example");
    var form = document.getElementById("example-filters");
    if (article && article.hidden && form) {
      form.reset();
      sortExamples("order");
      applyFilters();
    }
    for (var node = target; node; node = node.parentElement) {
      if (node.tagName === "DETAILS") { node.open = true; }
    }
    stickyOffset();
    target.scrollIntoView();
  }

  /* The height of the bars that stay on screen, for scroll-margin-top (report.css). */
  function stickyOffset() {
    var height = 0;
    Array.prototype.forEach.call(document.querySelectorAll("nav.toc, form.filters"), function (bar) {
      if (getComputedStyle(bar).position === "sticky") { height += bar.offsetHeight; }
    });
    document.documentElement.style.setProperty("--sticky", height + "px");
  }

  /* A click on a mark of a chart with data-opens="filter:field ..." sets those explorer filters to the mark's
     fields (a value the filter does not offer leaves it at "any") and shows the explorer. */
  function listOnClick(element, view) {
    var pairs = element.getAttribute("data-opens").split(" ").map(function (pair) { return pair.split(":"); });
    view.addEventListener("click", function (event, item) {
      var form = document.getElementById("example-filters");
      if (!form || !item || !item.datum) { return; }
      form.reset();
      sortExamples("order");
      pairs.forEach(function (pair) {
        var control = form.querySelector("[data-filter='" + pair[0] + "']");
        var value = String(item.datum[pair[1]]);
        if (control && Array.prototype.some.call(control.options, function (o) { return o.value === value; })) {
          control.value = value;
        }
      });
      applyFilters();
      stickyOffset();
      document.getElementById("examples").scrollIntoView();
    });
  }

  function startFilters() {
    var form = document.getElementById("example-filters");
    if (!form) { return; }
    form.addEventListener("submit", function (event) { event.preventDefault(); });
    form.addEventListener("input", applyFilters);
    form.addEventListener("change", function (event) {
      var key = event.target && event.target.getAttribute && event.target.getAttribute("data-sort");
      if (key !== null && key !== undefined) { sortExamples(event.target.value); }
      applyFilters();
    });
    form.addEventListener("click", function (event) {
      var action = event.target && event.target.getAttribute && event.target.getAttribute("data-action");
      if (action === "expand") { setOpen(true); }
      if (action === "collapse") { setOpen(false); }
    });
    applyFilters();
  }

  /* Paper shows every example opened with its charts drawn; definitions stay as they are (closed). */
  function beforePrint() {
    Array.prototype.forEach.call(document.querySelectorAll("article.example > details"), function (details) {
      details.open = true;
    });
    return drawAll();
  }

  /* ------------------------------------------------------------------ start */

  /* This script runs in the page's head, before the body is parsed. Charts are picked up as the
     parser inserts them (a chart's JSON blocks always come before it), so the first screen can be
     drawn before the rest of a long page has arrived; the background fill waits for the whole page. */
  var visibleDraws = [];
  var observer = "IntersectionObserver" in window ? new IntersectionObserver(function (entries) {
    entries.forEach(function (entry) {
      if (entry.isIntersecting) {
        observer.unobserve(entry.target);
        visibleDraws.push(draw(entry.target));
      }
    });
  }, { rootMargin: "200px" }) : null;

  /* The background fill starts once the charts in view are drawn, so it never delays them. */
  function fillWhenVisibleDrawn() {
    requestAnimationFrame(function () {
      setTimeout(function () {
        var waiting = visibleDraws.splice(0);
        if (waiting.length) {
          Promise.all(waiting).then(fillWhenVisibleDrawn);
        } else {
          later(fillInBackground);
        }
      }, 0);
    });
  }
  var watched = new WeakSet();

  function watch(chart) {
    if (watched.has(chart)) { return; }
    watched.add(chart);
    pending.push(chart);
    if (observer) { observer.observe(chart); }
  }

  function isChart(node) {
    return node.nodeType === 1 && node.classList.contains("chart") && node.hasAttribute("data-spec");
  }

  /* While the top of the page is parsed, a chart that lands on the first screen is drawn at once,
     without waiting for the next frame's intersection check; the first one below it ends that. */
  var firstScreen = !location.hash;

  function drawIfOnFirstScreen(chart) {
    if (!firstScreen) { return; }
    if (chart.getBoundingClientRect().top > window.innerHeight) {
      firstScreen = false;
      return;
    }
    if (observer) { observer.unobserve(chart); }
    visibleDraws.push(draw(chart));
  }

  var parsing = new MutationObserver(function (records) {
    records.forEach(function (record) {
      Array.prototype.forEach.call(record.addedNodes, function (node) {
        if (isChart(node)) {
          watch(node);
          drawIfOnFirstScreen(node);
        }
      });
    });
  });

  function start() {
    parsing.disconnect();
    Array.prototype.forEach.call(document.querySelectorAll(".chart[data-spec]"), watch);
    pending.sort(function (a, b) {
      return a.compareDocumentPosition(b) & Node.DOCUMENT_POSITION_FOLLOWING ? -1 : 1;
    });
    cursor = 0;
    startFilters();
    stickyOffset();
    window.addEventListener("resize", stickyOffset);
    window.addEventListener("hashchange", reveal);
    if (location.hash) { reveal(); }
    window.addEventListener("beforeprint", beforePrint);
    if (observer) {
      fillWhenVisibleDrawn();
    } else {
      drawAll();
    }
  }

  window.reportgen = {
    draw: draw,
    drawAll: drawAll,
    applyFilters: applyFilters,
    sortExamples: sortExamples,
    view: function (id) { return views[id] || null; },
    firstDrawn: function () { return firstDrawn; }
  };
  if (document.readyState === "loading") {
    parsing.observe(document.documentElement, { childList: true, subtree: true });
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
