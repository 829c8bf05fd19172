/* Draw the course's charts so that each fits its column, on a phone as on a desktop.
 *
 * Loaded, with the Vega bundle, only on pages that hold a chart (book/_ext/offline_book.py);
 * each chart's cell calls collapseChart(id, spec) (collapse_utils/figures/style.py).
 *
 * A single or layered chart is `width: "container"` and sizes itself to the column. A
 * composition cannot: it is drawn, measured and, while wider than its column, drawn again with
 * side-by-side views stacked (when they would be narrower than MIN), facet columns fewer (when
 * cells would be narrower than MIN_CELL), or its views narrowed by what overflows; first of all,
 * titles too long for the column are broken into lines, and legends wider than the column laid
 * out in one column. When the
 * column's width changes, the chart is fitted again. Each chart's div then says data-fitted
 * "fits" (or "overflows", "error"): tests/test_book_offline.py waits for it. The drawing is
 * one image to screen readers, labelled with the chart's description.
 */
(function () {
  "use strict";

  var MIN = 200; // the narrowest view worth drawing side by side, in pixels
  var MIN_CELL = 120; // the narrowest cell of a facet with several columns
  var OPTIONS = { actions: false, renderer: "svg" };
  var column = 0; // the width of the column of the chart being fitted

  function clone(value) {
    return JSON.parse(JSON.stringify(value));
  }

  // The width a view's plots take side by side (a number), or null when it sets none.
  function widthOf(view) {
    if (typeof view.width === "number") return view.width;
    if (view.width === "container") return column;
    var parts = view.hconcat || view.vconcat || view.concat || view.layer;
    if (parts) {
      var widths = parts.map(widthOf).filter(function (w) { return w !== null; });
      if (!widths.length) return null;
      if (view.hconcat) return widths.reduce(function (a, b) { return a + b; }, 0);
      return Math.max.apply(null, widths);
    }
    if (view.spec) {
      var w = widthOf(view.spec);
      return w === null ? null : w * Math.max(1, view.columns || 1);
    }
    return null;
  }

  // Narrow `view` to plots at most `cap` wide side by side.
  function capTo(view, cap, scale) {
    var w = widthOf(view);
    return w !== null && w > cap && narrow(view, w - cap, scale);
  }

  // Make `view` at least `by` pixels narrower; `scale` keeps each view's aspect ratio. True
  // when the spec changed (then it is drawn and measured again).
  function narrow(view, by, scale) {
    if (view.hconcat) {
      var n = view.hconcat.length;
      var tooNarrow = view.hconcat.some(function (v) {
        var w = widthOf(v);
        return w !== null && w - by / n < MIN;
      });
      if (tooNarrow && n > 1) { // stack the views instead
        view.vconcat = view.hconcat;
        delete view.hconcat;
        return true;
      }
      return view.hconcat.map(function (v) {
        return narrow(v, Math.ceil(by / n), scale);
      }).some(Boolean);
    }
    if ((view.facet || view.repeat || view.concat) && view.columns > 1) {
      var cell = view.spec ? widthOf(view.spec) : null;
      var share = Math.ceil(by / view.columns);
      if (cell !== null && cell - share >= MIN_CELL) return narrow(view.spec, share, scale);
      view.columns -= 1; // fewer, wider cells
      return true;
    }
    var stacked = view.vconcat || view.concat;
    if (stacked) { // each row at most as wide as the widest less the overflow
      var widest = widthOf(view);
      if (widest === null) return false;
      return stacked.map(function (v) {
        return capTo(v, Math.max(80, widest - by), scale);
      }).some(Boolean);
    }
    if (view.spec) return narrow(view.spec, by, scale);
    if (view.layer && typeof view.width !== "number" && view.width !== "container") {
      return view.layer.map(function (v) { return narrow(v, by, scale); }).some(Boolean);
    }
    var width = widthOf(view);
    if (typeof width !== "number") return false;
    var next = Math.max(80, Math.floor(width - by));
    if (next >= width) return false;
    if (scale && typeof view.height === "number") {
      view.height = Math.max(20, Math.round(view.height * next / width));
    }
    view.width = next;
    return true;
  }

  // Words of `text` in lines of at most `limit` characters.
  function lines(text, limit) {
    var out = [];
    String(text).split(/\s+/).forEach(function (word) {
      var last = out.length - 1;
      if (last >= 0 && (out[last] + " " + word).length <= limit) out[last] += " " + word;
      else out.push(word);
    });
    return out;
  }

  function wrapText(text, limit) {
    var parts = Array.isArray(text) ? text : [text];
    var wrapped = [].concat.apply([], parts.map(function (t) { return lines(t, limit); }));
    return wrapped.length > parts.length ? wrapped : null;
  }

  // Break every title and subtitle too long for the column into lines (a title wider than the
  // column cannot be narrowed away): titles (15 px) at 8 px a character, subtitles at 6.5 px.
  function wrapTitles(view) {
    var changed = false;
    if (view && typeof view === "object" && !Array.isArray(view)) {
      Object.keys(view).forEach(function (key) {
        if (key === "datasets" || key === "data" || key === "config") return;
        if (key === "title" && view.title !== null && typeof view.title !== "boolean") {
          var t = typeof view.title === "object" && !Array.isArray(view.title)
            ? view.title : { text: view.title };
          if (typeof t.text === "string" || Array.isArray(t.text)) {
            var text = wrapText(t.text, Math.floor(column / 8));
            var sub = t.subtitle ? wrapText(t.subtitle, Math.floor(column / 6.5)) : null;
            if (text || sub) {
              view.title = Object.assign({}, t, text ? { text: text } : {},
                                         sub ? { subtitle: sub } : {});
              changed = true;
            }
          }
        } else if (typeof view[key] === "object") {
          changed = wrapTitles(view[key]) || changed;
        }
      });
    } else if (Array.isArray(view)) {
      view.forEach(function (v) { changed = wrapTitles(v) || changed; });
    }
    return changed;
  }

  // Lay every legend out in one column (a legend wider than the column cannot be narrowed).
  function stackLegends(spec) {
    var changed = false;
    (function walk(node) {
      if (Array.isArray(node)) { node.forEach(walk); return; }
      if (!node || typeof node !== "object") return;
      Object.keys(node).forEach(function (key) {
        if (key === "datasets" || key === "data") return;
        var value = node[key];
        if (key === "legend" && value && typeof value === "object" && value.columns !== 1) {
          value.columns = 1;
          changed = true;
        } else {
          walk(value);
        }
      });
    })(spec);
    spec.config = spec.config || {};
    if (!spec.config.legend || spec.config.legend.columns !== 1) {
      spec.config.legend = Object.assign({}, spec.config.legend, { columns: 1 });
      changed = true;
    }
    return changed;
  }

  function legendOverflows(el) {
    var right = el.getBoundingClientRect().left + el.clientWidth;
    return Array.prototype.some.call(el.querySelectorAll(".role-legend"), function (g) {
      return g.getBoundingClientRect().right > right + 1;
    });
  }

  // Screen readers read the chart's one-sentence description, not its marks.
  function describe(el, spec) {
    var svg = el.querySelector("svg");
    if (svg && spec.description) {
      svg.setAttribute("role", "img");
      svg.setAttribute("aria-label", spec.description);
    }
  }

  function overflow(el) {
    var svg = el.querySelector("svg");
    if (!svg) return 0;
    return Math.ceil(svg.getBoundingClientRect().width - el.clientWidth);
  }

  function fit(el, spec) {
    var scale = Boolean(spec.usermeta && spec.usermeta.keepAspect);
    var current = spec;
    var tries = 0;
    var wrapped = false;
    var stacked = false;
    var run = (el.collapseRun || 0) + 1; // a later fit (the column resized) supersedes this one
    el.collapseRun = run;
    el.removeAttribute("data-fitted");

    function draw(s) {
      return vegaEmbed(el, s, OPTIONS).then(function (result) {
        if (el.collapseRun !== run) return result;
        describe(el, spec);
        var by = overflow(el);
        if (by > 0 && tries < 8) {
          var next = clone(current);
          column = el.clientWidth;
          var changed = !wrapped && wrapTitles(next);
          wrapped = true;
          if (!changed && !stacked && legendOverflows(el)) {
            changed = stackLegends(next);
            stacked = true;
          }
          if (changed || narrow(next, by, scale)) {
            tries += 1;
            result.finalize();
            current = next;
            return draw(current);
          }
        }
        el.setAttribute("data-fitted", by > 0 ? "overflows" : "fits");
        return result;
      });
    }
    return draw(spec).catch(function (error) {
      el.setAttribute("data-fitted", "error");
      console.error(error);
    });
  }

  window.collapseChart = function (id, spec) {
    var el = document.getElementById(id);
    var drawn = fit(el, spec);
    if (typeof ResizeObserver === "undefined") return drawn;
    // When the column's width changes (a phone turned, a window resized), fit again.
    var width = el.clientWidth;
    var timer = null;
    new ResizeObserver(function () {
      if (Math.abs(el.clientWidth - width) < 2) return;
      width = el.clientWidth;
      clearTimeout(timer);
      timer = setTimeout(function () { fit(el, spec); }, 200);
    }).observe(el);
    return drawn;
  };
})();
