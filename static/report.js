/* reportgen's page script: draws each chart from its JSON block (visible charts first, the rest
   in the background, all of them before printing) and filters the example explorer.
   Dataset text is only ever read from JSON blocks and handed to Vega as data; this script never
   evaluates strings and never writes HTML of its own. A long explorer's articles arrive as the templates'
   markup, compressed (report/pages.py): they are parsed in an inert document (DOMParser: no script runs,
   nothing loads) and moved into the page. */
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

  /* What the filters ask for; keeps() reads it against an article's data-* attributes or an index record. */
  function chosenFilters(form) {
    var low = parseFloat(filterValue(form, "min"));
    var high = parseFloat(filterValue(form, "max"));
    return {
      label: filterValue(form, "label"), prediction: filterValue(form, "prediction"),
      correct: filterValue(form, "correct"), attention: filterValue(form, "attention"),
      holders: wordHolders(filterValue(form, "word")),
      low: low, high: high, narrowed: (!isNaN(low) && low > 0) || (!isNaN(high) && high < 1)
    };
  }

  /* The ids of the examples that hold a word of the word filter, or null for "any". The examples-words block
     lists, per word key, the examples' dataset indices as gaps: the first, then the distance from the one before. */
  var wordIndex = null;

  function wordHolders(key) {
    if (!key) { return null; }
    if (!wordIndex) { wordIndex = block("examples-words") || {}; }
    var found = new Set(), index = 0;
    (Object.prototype.hasOwnProperty.call(wordIndex, key) ? wordIndex[key] : []).forEach(function (gap) {
      index += gap;
      found.add("example-" + index);
    });
    return found;
  }

  function keeps(data, chosen, id) {
    var keep = (chosen.holders === null || chosen.holders.has(id)) &&
      (chosen.label === "" || data.label === chosen.label) &&
      (chosen.prediction === "" || data.prediction === chosen.prediction) &&
      (chosen.correct === "" || data.correct === chosen.correct) &&
      (chosen.attention === "" || data.attention === "1");
    if (keep && chosen.narrowed) {
      var confidence = parseFloat(data.confidence);
      keep = !isNaN(confidence) && (isNaN(chosen.low) || confidence >= chosen.low) &&
        (isNaN(chosen.high) || confidence <= chosen.high);
    }
    return keep;
  }

  function showCount(shown, total, pageText) {
    var count = document.getElementById("examples-count");
    if (count) { count.textContent = shown + " of " + total + " examples"; }
    var page = document.getElementById("examples-page");
    if (page) { page.textContent = pageText; }
    var none = document.getElementById("examples-none");
    if (none) { none.hidden = shown > 0; }
  }

  /* Shows the examples the filters keep: hides the others, or, in a paged explorer, shows the first page of
     them. Returns how many are kept (a paged explorer: a promise of it, once the page is shown). */
  function applyFilters() {
    var form = document.getElementById("example-filters");
    if (!form) { return 0; }
    var chosen = chosenFilters(form);
    if (paged) {
      paged.matches = paged.ordered.filter(function (record) { return keeps(record, chosen, record.id); });
      return showPage(0).then(function () { return paged.matches.length; });
    }
    var examples = document.querySelectorAll("article.example");
    var shown = 0;
    Array.prototype.forEach.call(examples, function (article) {
      var keep = keeps(article.dataset, chosen, article.id);
      article.hidden = !keep;
      if (keep) { shown += 1; }
    });
    showCount(shown, examples.length, "");
    highlightOpened();  /* a reset form may have set the highlight box back to its first method */
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
     without the number go last, and ties keep the review order. */
  function byKey(key) {
    var descending = key.charAt(0) === "-";
    var name = descending ? key.slice(1) : key;
    function value(data) {
      var number = parseFloat(data[name]);
      return isNaN(number) ? null : (descending ? -number : number);
    }
    return function (a, b) {
      var x = value(a), y = value(b);
      if (x !== y) {
        if (x === null) { return 1; }
        if (y === null) { return -1; }
        return x - y;
      }
      return parseFloat(a.order) - parseFloat(b.order);
    };
  }

  /* Sorts the examples: moves the articles (writes no HTML), or, in a paged explorer, orders the index. */
  function sortExamples(key) {
    var compare = byKey(key);
    if (paged) {
      paged.ordered = paged.records.slice().sort(compare);
      return;
    }
    var list = document.getElementById("examples-list");
    if (!list) { return; }
    var articles = Array.prototype.slice.call(list.querySelectorAll("article.example"));
    articles.sort(function (a, b) { return compare(a.dataset, b.dataset); });
    articles.forEach(function (article) { list.appendChild(article); });
  }

  /* ------------------------------------------------------------------ highlighted text */

  /* An opened example's words, each a span coloured by the chosen method's word score (the token scores
     summed per word, or a word-level method's own word scores), as the words x methods heatmap reads them. */
  var SUPPORTS = "178, 24, 43", OPPOSES = "33, 102, 172";  /* the heatmaps' diverging ends: red and blue */

  function highlightKey() {
    var control = document.querySelector("[data-highlight-method]");
    return control ? control.value : "";
  }

  /* A contrast paragraph (an error's other class) reads c<i>, whose word-level scores are spread already. */
  function wordScores(row, key, contrast) {
    var spread = contrast ? null : row["u" + key.slice(1)];
    var tokens = contrast ? row["c" + key.slice(1)] : (spread && spread.length ? spread : row[key]);
    if (!tokens || !tokens.length || !row.W) { return null; }
    var sums = row.W.map(function () { return 0; });
    row.w.forEach(function (word, t) {
      if (typeof word === "number" && word < sums.length && typeof tokens[t] === "number") { sums[word] += tokens[t]; }
    });
    return sums;
  }

  function wordSpan(word, score, share) {
    var span = document.createElement("span");
    span.textContent = word;
    var strength = Math.min(1, Math.abs(share));
    span.style.backgroundColor = "rgba(" + (share >= 0 ? SUPPORTS : OPPOSES) + ", " + (0.85 * strength).toFixed(3) + ")";
    if (strength > 0.6) { span.className = "strong"; }
    span.title = word + ": " + score.toPrecision(3) + " (" + share.toFixed(2) + " of the largest)";
    span.setAttribute("data-share", share.toFixed(3));
    return span;
  }

  /* Fills (or refills) one highlighted paragraph for the chosen method; writes text and spans, never markup. */
  function highlight(paragraph) {
    var key = highlightKey();
    if (!key || paragraph.getAttribute("data-method") === key) { return; }
    var data = block(paragraph.getAttribute("data-highlight"));
    var row = data && data.tok ? data.tok[0] : null;
    var contrast = paragraph.hasAttribute("data-contrast");
    var scores = row ? wordScores(row, key, contrast) : null;
    paragraph.replaceChildren();
    paragraph.setAttribute("data-method", key);
    if (!scores) {
      paragraph.textContent = contrast ? "This method has no scores for this class (attention, rollout and the " +
        "random control give every class the same scores)." : "This method has no scores for this example.";
      return;
    }
    var largest = scores.reduce(function (most, s) { return Math.max(most, Math.abs(s)); }, 0);
    row.W.forEach(function (word, i) {
      if (i === row.B && i > 0) {
        var name = document.createElement("span");
        name.className = "pair-start";
        name.textContent = "Pair";
        paragraph.append(name, " ");
      }
      paragraph.append(wordSpan(word, scores[i], largest > 0 ? scores[i] / largest : 0), " ");
    });
  }

  function highlightOpened(root) {
    Array.prototype.forEach.call((root || document).querySelectorAll("details[open] > p.highlighted"), highlight);
  }

  function startHighlights() {
    /* toggle does not bubble: it is caught on the way down */
    document.addEventListener("toggle", function (event) {
      var details = event.target;
      if (details.tagName === "DETAILS" && details.open) {
        Array.prototype.forEach.call(details.querySelectorAll(":scope > p.highlighted"), highlight);
      }
    }, true);
    highlightOpened();
  }

  /* ------------------------------------------------------------------ a paged explorer */

  var paged = null;  /* {records, ordered, matches, page, size, chunk, texts, ticket} when the explorer is paged */
  var KEPT_BLOCKS = 40;  /* unpacked blocks kept as text, the least recently used dropped first */

  function startPages() {
    var index = block("examples-index");
    if (!index) { return; }
    var fields = ["label", "prediction", "correct", "confidence", "attention", "index", "disagreement"];
    var records = index.id.map(function (id, position) {
      var record = { id: id, order: position, chunk: Math.floor(position / index.chunk) };
      fields.forEach(function (field) { record[field] = index[field][position]; });
      return record;
    });
    paged = { records: records, ordered: records.slice(), matches: records, page: 0, size: index.page,
              texts: new Map(), ticket: 0, byId: new Map(records.map(function (r) { return [r.id, r]; })) };
  }

  /* A block's markup: base64, then gzip, unpacked by the browser (a promise of the text). */
  function blockText(chunk) {
    var text = paged.texts.get(chunk);
    if (text) {
      paged.texts.delete(chunk);
    } else {
      var encoded = document.getElementById("examples-chunk-" + chunk).textContent;
      var bytes = Uint8Array.from(atob(encoded), function (c) { return c.charCodeAt(0); });
      var stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
      text = new Response(stream).text();
    }
    paged.texts.set(chunk, text);
    if (paged.texts.size > KEPT_BLOCKS) { paged.texts.delete(paged.texts.keys().next().value); }
    return text;
  }

  /* The articles of ``records``, in their order: those on the page already, the others parsed from their blocks. */
  function articlesOf(records) {
    var chunks = Array.from(new Set(records.map(function (r) { return r.chunk; })));
    return Promise.all(chunks.map(function (chunk) {
      return blockText(chunk).then(function (text) { return [chunk, new DOMParser().parseFromString(text, "text/html")]; });
    })).then(function (parsed) {
      var documents = new Map(parsed);
      return records.map(function (record) {
        return document.getElementById(record.id) ||
          document.adoptNode(documents.get(record.chunk).getElementById(record.id));
      });
    });
  }

  /* Shows page ``k`` of the examples the filters keep (a later call wins over one still unpacking). */
  function showPage(k) {
    var pages = Math.max(1, Math.ceil(paged.matches.length / paged.size));
    k = Math.min(Math.max(0, k), pages - 1);
    var ticket = ++paged.ticket;
    var wanted = paged.matches.slice(k * paged.size, (k + 1) * paged.size);
    if (typeof DecompressionStream === "undefined") {
      showCount(0, paged.records.length, "this browser cannot unpack the examples (no DecompressionStream)");
      return Promise.resolve();
    }
    return articlesOf(wanted).then(function (articles) {
      if (ticket !== paged.ticket) { return; }
      paged.page = k;
      var list = document.getElementById("examples-list");
      list.replaceChildren.apply(list, articles);
      forgetDetached();
      articles.forEach(function (article) {
        Array.prototype.forEach.call(article.querySelectorAll(".chart[data-spec]"), watchNew);
      });
      highlightOpened(list);
      list.setAttribute("data-page", String(k));
      if (!document.documentElement.hasAttribute("data-first-page-ms")) {
        document.documentElement.setAttribute("data-first-page-ms", performance.now().toFixed(1));
      }
      showCount(paged.matches.length, paged.records.length, "page " + (k + 1) + " of " + pages);
      Array.prototype.forEach.call(document.querySelectorAll("[data-action=previous]"), function (b) { b.disabled = k === 0; });
      Array.prototype.forEach.call(document.querySelectorAll("[data-action=next]"), function (b) { b.disabled = k >= pages - 1; });
      later(fillInBackground);
    });
  }

  /* Charts of articles that left the page: their views are let go, and the background fill forgets them. */
  function forgetDetached() {
    pending = pending.filter(function (chart) { return chart.isConnected; });
    cursor = 0;
    Object.keys(views).forEach(function (id) {
      if (!document.getElementById(id)) { views[id].finalize(); delete views[id]; }
    });
  }

  function watchNew(chart) {
    var template = chart.getAttribute("data-datasets") ? chart.getAttribute("data-spec") : null;
    if (template && reserved[template] && !drawn.has(chart)) { chart.style.minHeight = reserved[template] + "px"; }
    watch(chart);
  }

  /* The page that holds a record once the filters are cleared; null when ``id`` names no example of the index
     (also an element inside one: ex12-words is in example-12). */
  function recordOf(id) {
    if (!paged) { return null; }
    var inside = /^ex(\d+)-/.exec(id);
    return paged.byId.get(inside ? "example-" + inside[1] : id) || null;
  }

  /* A link to an element of the page (an example, a chart, a table) shows it: filters that hide it are
     cleared, the details around it opened, and it is scrolled to below the sticky bars. */
  function reveal() {
    var id = decodeURIComponent(location.hash.slice(1));
    var target = id ? document.getElementById(id) : null;
    var record = target ? null : recordOf(id);
    var form = document.getElementById("example-filters");
    if (record && form) {  /* an example of a paged explorer that is not on the shown page */
      form.reset();
      sortExamples("order");
      applyFilters();
      paged.matches = paged.ordered;
      return showPage(Math.floor(record.order / paged.size)).then(function () {
        if (document.getElementById(id)) { reveal(); }
      });
    }
    if (!target) { return; }
    var article = target.closest("article.example");
    if (article && article.hidden && form) {
      form.reset();
      sortExamples("order");
      applyFilters();
    }
    for (var node = target; node; node = node.parentElement) {
      if (node.tagName === "DETAILS") { node.open = true; }
    }
    var own = article && article.querySelector(":scope > details");
    if (own) { own.open = true; }
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

  /* Shows the explorer with its filters reset, then set to ``chosen`` ([filter, value] pairs; a value the filter
     does not offer leaves it at "any"). */
  function listExamples(chosen) {
    var form = document.getElementById("example-filters");
    if (!form) { return; }
    form.reset();
    sortExamples("order");
    chosen.forEach(function (pair) {
      var control = form.querySelector("[data-filter='" + pair[0] + "']");
      if (control && Array.prototype.some.call(control.options, function (o) { return o.value === pair[1]; })) {
        control.value = pair[1];
      }
    });
    applyFilters();
    stickyOffset();
    document.getElementById("examples").scrollIntoView();
  }

  /* A click on a mark of a chart with data-opens="filter:field ..." lists the examples whose filters equal the
     mark's fields. */
  function listOnClick(element, view) {
    var pairs = element.getAttribute("data-opens").split(" ").map(function (pair) { return pair.split(":"); });
    view.addEventListener("click", function (event, item) {
      if (!item || !item.datum) { return; }
      listExamples(pairs.map(function (pair) { return [pair[0], String(item.datum[pair[1]])]; }));
    });
  }

  /* A link with data-lists="filter=value ..." (a word of a table) lists the examples with those filters. */
  function listOnLink(event) {
    var link = event.target && event.target.closest ? event.target.closest("a[data-lists]") : null;
    if (!link) { return; }
    event.preventDefault();
    listExamples(link.getAttribute("data-lists").split(" ").map(function (pair) { return pair.split("="); }));
  }

  function startFilters() {
    var form = document.getElementById("example-filters");
    if (!form) { return; }
    form.addEventListener("submit", function (event) { event.preventDefault(); });
    form.addEventListener("input", function (event) {
      if (!event.target.hasAttribute("data-highlight-method")) { applyFilters(); }
    });
    form.addEventListener("change", function (event) {
      if (event.target.hasAttribute("data-highlight-method")) {
        highlightOpened();
        return;
      }
      var key = event.target && event.target.getAttribute && event.target.getAttribute("data-sort");
      if (key !== null && key !== undefined) { sortExamples(event.target.value); }
      applyFilters();
    });
    document.addEventListener("click", listOnLink);
    document.addEventListener("click", function (event) {
      var action = event.target && event.target.getAttribute && event.target.getAttribute("data-action");
      if (action === "expand") { setOpen(true); }
      if (action === "collapse") { setOpen(false); }
      if (paged && (action === "previous" || action === "next")) {
        showPage(paged.page + (action === "next" ? 1 : -1)).then(function () {
          if (event.target.closest("p.pager")) { document.getElementById("example-filters").scrollIntoView(); }
        });
      }
    });
    return applyFilters();
  }

  /* Paper shows every example opened with its charts drawn; definitions stay as they are (closed). */
  function beforePrint() {
    Array.prototype.forEach.call(document.querySelectorAll("article.example > details"), function (details) {
      details.open = true;
    });
    highlightOpened();
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

  /* A chart with its own spec knows its drawn height (data-height, report/heights.py): it is reserved with the
     export links below the canvas and the boxes above it, as report.css lays them out. */
  var EXPORT_LINKS = 36, BOXES = 22;  /* px */

  function reserveOwn(chart) {
    var height = parseFloat(chart.getAttribute("data-height"));
    if (isNaN(height) || drawn.has(chart)) { return; }
    var reserved = height + EXPORT_LINKS + (chart.hasAttribute("data-bound") ? BOXES : 0);
    chart.style.minHeight = reserved + "px";
    chart.setAttribute("data-reserved", String(reserved));
  }

  function watch(chart) {
    if (watched.has(chart)) { return; }
    watched.add(chart);
    reserveOwn(chart);
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
    startPages();
    var listed = startFilters();
    startHighlights();
    stickyOffset();
    window.addEventListener("resize", stickyOffset);
    window.addEventListener("hashchange", reveal);
    if (location.hash) { Promise.resolve(listed).then(reveal); }
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
    showPage: function (k) { return paged ? showPage(k) : Promise.resolve(); },
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
