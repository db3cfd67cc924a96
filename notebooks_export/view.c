/* view.c: the view page of a run (view.h): HTML, the page's style sheet
 * and script, the curves' data and the images as data: URIs.
 *
 * Everything the page shows is written into the file: the style sheet and
 * the script below (kept here as C strings, exactly as they appear in the
 * page), the curves as one JSON object (window.VIEW_DATA, curves thinned to
 * at most VIEW_MAX_POINTS points each, always keeping the first and last
 * rows), and every image base64-encoded.  Text from the run's files is
 * HTML-escaped; JSON goes through sbuf_json_string with "</" broken up so
 * that no string can close the <script> element. */
#include "view.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipynb.h"
#include "rdir.h"
#include "rundir.h"

/* Points per curve sent to the page, at most. */
#define VIEW_MAX_POINTS 2000
/* An image larger than this is left out (named in the notes). */
#define VIEW_IMAGE_MAX (16u << 20)

static const char VIEW_CSS[] =
    "body { font: 14px/1.45 'DejaVu Sans', Helvetica, Arial, sans-serif; margin: 0 auto;\n"
    "       max-width: 1340px; padding: 0 16px 40px; color: #222; background: #fafafa; }\n"
    "h1 { font-size: 22px; margin: 18px 0 4px; } h2 { font-size: 17px; margin: 26px 0 8px;\n"
    "     border-bottom: 1px solid #ddd; padding-bottom: 3px; }\n"
    ".sub { color: #555; margin: 0 0 10px; }\n"
    ".summary { columns: 3 380px; column-gap: 28px; font-size: 13px; }\n"
    ".kv { break-inside: avoid; display: flex; gap: 10px; border-bottom: 1px solid #e4e4e4;\n"
    "      padding: 1px 0; }\n"
    ".kv .k { color: #555; flex: 0 0 44%; overflow-wrap: anywhere; }\n"
    ".kv .v { overflow-wrap: anywhere; } .kv details { font-size: 12px; }\n"
    "#charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(520px, 1fr));\n"
    "          gap: 12px; }\n"
    ".chart, .view, figure { background: #fff; border: 1px solid #ddd; border-radius: 4px;\n"
    "                        padding: 6px; margin: 0; }\n"
    ".chart-title { font-weight: bold; margin: 0 0 2px 4px; }\n"
    ".chart-svg { width: 100%; height: auto; display: block; cursor: crosshair;\n"
    "             user-select: none; }\n"
    ".chart-svg text { font-size: 11px; fill: #333; }\n"
    ".chart-svg .label { font-size: 12px; } .chart-svg .legend { font-size: 12px; }\n"
    ".chart-svg .frame { fill: #fff; stroke: #999; } .chart-svg .grid { stroke: #eee; }\n"
    ".chart-svg .mark { stroke: #666; stroke-dasharray: 4 3; }\n"
    ".chart-svg .mark-label { font-size: 10px; fill: #666; }\n"
    ".chart-svg .cursor { stroke: #D55E00; stroke-width: 1.5; }\n"
    ".chart-svg .sel { fill: rgba(0, 114, 178, 0.15); stroke: #0072B2; }\n"
    ".readout { font-size: 12px; color: #555; min-height: 1.4em; margin-left: 4px; }\n"
    ".slider { position: sticky; top: 0; z-index: 2; background: #fafafa; padding: 8px 0;\n"
    "          display: flex; align-items: center; gap: 12px; }\n"
    ".slider input { flex: 1; } #ckpt-label { min-width: 260px; font-weight: bold; }\n"
    "#views, #figures { display: grid; grid-template-columns: repeat(auto-fill,\n"
    "                   minmax(420px, 1fr)); gap: 12px; }\n"
    ".view img, figure img { width: 100%; height: auto; display: block; }\n"
    ".view.wide { grid-column: 1 / -1; } .view.wide img { max-width: 1100px; }\n"
    ".view h3 { font-size: 14px; margin: 0 0 4px; } .none { color: #888; padding: 30px 8px; }\n"
    "figcaption, .caption { font-size: 12px; color: #555; margin-top: 4px; }\n"
    "#js-errors { color: #b00; white-space: pre-wrap; border: 1px solid #b00; padding: 6px; }\n"
    "pre.config { font-size: 12px; background: #fff; border: 1px solid #ddd; padding: 8px;\n"
    "             overflow-x: auto; }\n";

/* Catches every error of the page's scripts, this one's successors
 * included (a syntax error in the main script shows here too). */
static const char VIEW_ERR_JS[] =
    "window.addEventListener('error', function (ev) {\n"
    "  var box = document.getElementById('js-errors');\n"
    "  var n = +(document.body.getAttribute('data-js-errors') || 0) + 1;\n"
    "  document.body.setAttribute('data-js-errors', n);\n"
    "  box.hidden = false;\n"
    "  box.textContent += 'JavaScript error: ' + ev.message + ' (line ' + ev.lineno + ')\\n';\n"
    "});\n";

/* The charts, the slider and the page's state (view.h). */
static const char VIEW_JS[] =
    "(function () {\n"
    "  'use strict';\n"
    "  var D = window.VIEW_DATA, NS = 'http://www.w3.org/2000/svg';\n"
    "  var W = 640, H = 250, ML = 58, MR = 12, MT = 30, MB = 34;\n"
    "  function el(tag, attrs, parent) {\n"
    "    var e = document.createElementNS(NS, tag);\n"
    "    for (var k in attrs) e.setAttribute(k, attrs[k]);\n"
    "    if (parent) parent.appendChild(e);\n"
    "    return e;\n"
    "  }\n"
    "  function txt(parent, x, y, s, cls, anchor) {\n"
    "    var t = el('text', {x: x, y: y, 'class': cls, 'text-anchor': anchor || 'start'}, parent);\n"
    "    t.textContent = s;\n"
    "    return t;\n"
    "  }\n"
    "  function fmt(v) {\n"
    "    if (v === null || !isFinite(v)) return '-';\n"
    "    var a = Math.abs(v);\n"
    "    if (a !== 0 && (a < 1e-3 || a >= 1e5)) return v.toExponential(2);\n"
    "    return String(+v.toPrecision(4));\n"
    "  }\n"
    "  function ticks(lo, hi, n) {\n"
    "    var span = hi - lo;\n"
    "    if (!(span > 0)) return [lo];\n"
    "    var step = Math.pow(10, Math.floor(Math.log(span / n) / Math.LN10)), r = span / n / step;\n"
    "    step *= r >= 7.5 ? 10 : r >= 3.5 ? 5 : r >= 1.5 ? 2 : 1;\n"
    "    var out = [];\n"
    "    for (var v = Math.ceil(lo / step) * step; v <= hi + 1e-9 * step; v += step)\n"
    "      out.push(Math.abs(v) < 1e-9 * step ? 0 : v);\n"
    "    return out;\n"
    "  }\n"
    "  var charts = [];\n"
    "  function Chart(c, host) {\n"
    "    this.c = c;\n"
    "    this.id = charts.length;\n"
    "    this.full = [c.x[0], c.x[c.x.length - 1]];\n"
    "    if (!(this.full[1] > this.full[0])) this.full = [this.full[0] - 1, this.full[0] + 1];\n"
    "    this.x0 = this.full[0];\n"
    "    this.x1 = this.full[1];\n"
    "    var box = document.createElement('div');\n"
    "    box.className = 'chart';\n"
    "    host.appendChild(box);\n"
    "    var title = document.createElement('div');\n"
    "    title.className = 'chart-title';\n"
    "    title.textContent = c.title;\n"
    "    box.appendChild(title);\n"
    "    this.svg = el('svg', {viewBox: '0 0 ' + W + ' ' + H, 'class': 'chart-svg', role: 'img',\n"
    "                          'aria-label': c.title}, box);\n"
    "    this.read = document.createElement('div');\n"
    "    this.read.className = 'readout';\n"
    "    this.read.textContent = 'drag across the chart to zoom, double-click to zoom out';\n"
    "    box.appendChild(this.read);\n"
    "    this.draw();\n"
    "    this.bind();\n"
    "  }\n"
    "  Chart.prototype.ty = function (v) {\n"
    "    if (v === null || !isFinite(v)) return NaN;\n"
    "    return this.c.log ? (v > 0 ? Math.log(v) / Math.LN10 : NaN) : v;\n"
    "  };\n"
    "  Chart.prototype.draw = function () {\n"
    "    var c = this.c, svg = this.svg, self = this, i, s;\n"
    "    while (svg.firstChild) svg.removeChild(svg.firstChild);\n"
    "    var lo = Infinity, hi = -Infinity;\n"
    "    for (s = 0; s < c.series.length; s++)\n"
    "      for (i = 0; i < c.x.length; i++) {\n"
    "        if (c.x[i] < this.x0 || c.x[i] > this.x1) continue;\n"
    "        var v = this.ty(c.series[s].y[i]);\n"
    "        if (isFinite(v)) { lo = Math.min(lo, v); hi = Math.max(hi, v); }\n"
    "      }\n"
    "    if (!(lo <= hi)) { lo = 0; hi = 1; }\n"
    "    if (hi - lo < 1e-12) { lo -= 0.5; hi += 0.5; }\n"
    "    var pad = 0.04 * (hi - lo);\n"
    "    lo -= pad; hi += pad;\n"
    "    var X = function (x) { return ML + (x - self.x0) / (self.x1 - self.x0) * (W - ML - MR); };\n"
    "    var Y = function (v) { return H - MB - (v - lo) / (hi - lo) * (H - MT - MB); };\n"
    "    this.X = X;\n"
    "    var clip = el('clipPath', {id: 'clip' + this.id}, el('defs', {}, svg));\n"
    "    el('rect', {x: ML, y: MT, width: W - ML - MR, height: H - MT - MB}, clip);\n"
    "    el('rect', {x: ML, y: MT, width: W - ML - MR, height: H - MT - MB, 'class': 'frame'}, svg);\n"
    "    var yt = c.log ? ticks(Math.floor(lo), Math.ceil(hi), 5).filter(function (t) {\n"
    "      return t === Math.round(t); }) : ticks(lo, hi, 5);\n"
    "    yt.forEach(function (t) {\n"
    "      var y = Y(t);\n"
    "      if (y < MT - 0.5 || y > H - MB + 0.5) return;\n"
    "      el('line', {x1: ML, x2: W - MR, y1: y, y2: y, 'class': 'grid'}, svg);\n"
    "      txt(svg, ML - 4, y + 4, c.log ? (t === 0 ? '1' : '1e' + t) : fmt(t), 'tick', 'end');\n"
    "    });\n"
    "    ticks(this.x0, this.x1, 6).forEach(function (t) {\n"
    "      var x = X(t);\n"
    "      el('line', {x1: x, x2: x, y1: MT, y2: H - MB, 'class': 'grid'}, svg);\n"
    "      txt(svg, x, H - MB + 14, fmt(t), 'tick', 'middle');\n"
    "    });\n"
    "    txt(svg, (ML + W - MR) / 2, H - 4, 'epoch', 'label', 'middle');\n"
    "    txt(svg, 12, (MT + H - MB) / 2, c.ylabel, 'label', 'middle')\n"
    "      .setAttribute('transform', 'rotate(-90 12 ' + (MT + H - MB) / 2 + ')');\n"
    "    var g = el('g', {'clip-path': 'url(#clip' + this.id + ')'}, svg);\n"
    "    (D.marks || []).forEach(function (m) {\n"
    "      if (m.epoch < self.x0 || m.epoch > self.x1) return;\n"
    "      var x = X(m.epoch);\n"
    "      el('line', {x1: x, x2: x, y1: MT, y2: H - MB, 'class': 'mark'}, g);\n"
    "      txt(g, x + 3, MT + 11, m.label, 'mark-label');\n"
    "    });\n"
    "    c.series.forEach(function (sr) {\n"
    "      var pts = [];\n"
    "      var flush = function () {\n"
    "        if (pts.length > 1)\n"
    "          el('polyline', {points: pts.join(' '), fill: 'none', stroke: sr.color,\n"
    "                          'stroke-width': 1.6, 'stroke-dasharray': sr.dash || 'none'}, g);\n"
    "        else if (pts.length === 1)\n"
    "          el('circle', {cx: pts[0].split(',')[0], cy: pts[0].split(',')[1], r: 2.5,\n"
    "                        fill: sr.color}, g);\n"
    "        pts = [];\n"
    "      };\n"
    "      for (var k = 0; k < c.x.length; k++) {\n"
    "        var v = self.ty(sr.y[k]);\n"
    "        if (!isFinite(v)) { flush(); continue; }\n"
    "        pts.push(X(c.x[k]).toFixed(1) + ',' + Y(v).toFixed(1));\n"
    "      }\n"
    "      flush();\n"
    "    });\n"
    "    var lx = ML;\n"
    "    c.series.forEach(function (sr) {\n"
    "      el('line', {x1: lx, x2: lx + 16, y1: MT - 12, y2: MT - 12, stroke: sr.color,\n"
    "                  'stroke-width': 2, 'stroke-dasharray': sr.dash || 'none'}, svg);\n"
    "      lx += 20 + 7 * txt(svg, lx + 20, MT - 8, sr.name, 'legend').textContent.length + 14;\n"
    "    });\n"
    "    this.cursor = el('line', {y1: MT, y2: H - MB, 'class': 'cursor'}, svg);\n"
    "    this.sel = el('rect', {y: MT, height: H - MT - MB, width: 0, 'class': 'sel',\n"
    "                           visibility: 'hidden'}, svg);\n"
    "    this.setCursor(D.cursor);\n"
    "  };\n"
    "  Chart.prototype.setCursor = function (epoch) {\n"
    "    var show = epoch !== null && epoch >= this.x0 && epoch <= this.x1;\n"
    "    var x = show ? this.X(epoch) : 0;\n"
    "    this.cursor.setAttribute('x1', x);\n"
    "    this.cursor.setAttribute('x2', x);\n"
    "    this.cursor.setAttribute('visibility', show ? 'visible' : 'hidden');\n"
    "  };\n"
    "  Chart.prototype.epochAt = function (ev) {\n"
    "    var r = this.svg.getBoundingClientRect();\n"
    "    var x = (ev.clientX - r.left) * W / (r.width || W);\n"
    "    var f = (Math.min(Math.max(x, ML), W - MR) - ML) / (W - ML - MR);\n"
    "    return {x: x, epoch: this.x0 + f * (this.x1 - this.x0)};\n"
    "  };\n"
    "  Chart.prototype.bind = function () {\n"
    "    var self = this, start = null;\n"
    "    this.svg.addEventListener('mousedown', function (ev) {\n"
    "      start = self.epochAt(ev);\n"
    "      ev.preventDefault();\n"
    "    });\n"
    "    this.svg.addEventListener('mousemove', function (ev) {\n"
    "      var p = self.epochAt(ev), c = self.c;\n"
    "      if (start) {\n"
    "        var a = Math.min(start.x, p.x), b = Math.max(start.x, p.x);\n"
    "        self.sel.setAttribute('x', Math.max(a, ML));\n"
    "        self.sel.setAttribute('width', Math.max(0, Math.min(b, W - MR) - Math.max(a, ML)));\n"
    "        self.sel.setAttribute('visibility', 'visible');\n"
    "      }\n"
    "      var lo = 0, hi = c.x.length - 1;\n"
    "      while (hi - lo > 1) {\n"
    "        var mid = (lo + hi) >> 1;\n"
    "        if (c.x[mid] < p.epoch) lo = mid; else hi = mid;\n"
    "      }\n"
    "      var k = Math.abs(c.x[hi] - p.epoch) < Math.abs(c.x[lo] - p.epoch) ? hi : lo;\n"
    "      self.read.textContent = 'epoch ' + c.x[k] + ': ' + c.series.map(function (sr) {\n"
    "        return sr.name + ' ' + fmt(sr.y[k]);\n"
    "      }).join(', ');\n"
    "    });\n"
    "    window.addEventListener('mouseup', function (ev) {\n"
    "      if (!start) return;\n"
    "      var p = self.epochAt(ev), a = Math.min(start.epoch, p.epoch), b = Math.max(start.epoch, p.epoch);\n"
    "      start = null;\n"
    "      self.sel.setAttribute('visibility', 'hidden');\n"
    "      if (b - a > 1e-6 * (self.full[1] - self.full[0]) && b - a > 0.5) {\n"
    "        self.x0 = a;\n"
    "        self.x1 = b;\n"
    "        self.draw();\n"
    "      }\n"
    "    });\n"
    "    this.svg.addEventListener('dblclick', function () {\n"
    "      self.x0 = self.full[0];\n"
    "      self.x1 = self.full[1];\n"
    "      self.draw();\n"
    "    });\n"
    "  };\n"
    "\n"
    "  var host = document.getElementById('charts');\n"
    "  D.curves.forEach(function (c) { charts.push(new Chart(c, host)); });\n"
    "\n"
    "  var slider = document.getElementById('ckpt'), label = document.getElementById('ckpt-label');\n"
    "  var imgs = [], n = D.epochs.length;\n"
    "  D.views.forEach(function (v, i) {\n"
    "    var img = document.getElementById('view-img-' + i);\n"
    "    imgs.push({img: img, none: document.getElementById('view-none-' + i)});\n"
    "    /* a wide figure (attention's panels) gets the whole row */\n"
    "    img.addEventListener('load', function () {\n"
    "      if (img.naturalWidth > 1.8 * img.naturalHeight) img.parentNode.className = 'view wide';\n"
    "    });\n"
    "  });\n"
    "  function setCkpt(k) {\n"
    "    if (!n) return;\n"
    "    k = Math.max(0, Math.min(n - 1, k | 0));\n"
    "    slider.value = k;\n"
    "    label.textContent = 'epoch ' + D.epochs[k] + '  (checkpoint ' + (k + 1) + ' of ' + n + ')';\n"
    "    D.views.forEach(function (v, i) {\n"
    "      var src = D.frames[i][k];\n"
    "      imgs[i].img.style.display = src ? '' : 'none';\n"
    "      imgs[i].none.style.display = src ? 'none' : '';\n"
    "      if (src) imgs[i].img.src = src;\n"
    "    });\n"
    "    D.cursor = D.epochs[k];\n"
    "    charts.forEach(function (ch) { ch.setCursor(D.cursor); });\n"
    "    document.body.setAttribute('data-ckpt', k);\n"
    "  }\n"
    "  function fromHash() {\n"
    "    var m = /ckpt=(\\d+)/.exec(location.hash), e = /epoch=(\\d+)/.exec(location.hash);\n"
    "    if (m) return +m[1];\n"
    "    if (e) {\n"
    "      var best = 0;\n"
    "      for (var i = 0; i < n; i++)\n"
    "        if (Math.abs(D.epochs[i] - e[1]) < Math.abs(D.epochs[best] - e[1])) best = i;\n"
    "      return best;\n"
    "    }\n"
    "    return n - 1;\n"
    "  }\n"
    "  var timer = null, play = document.getElementById('play');\n"
    "  if (n) {\n"
    "    slider.max = n - 1;\n"
    "    slider.addEventListener('input', function () { setCkpt(+slider.value); });\n"
    "    window.addEventListener('hashchange', function () { setCkpt(fromHash()); });\n"
    "    play.addEventListener('click', function () {\n"
    "      if (timer) {\n"
    "        clearInterval(timer);\n"
    "        timer = null;\n"
    "        play.textContent = 'play';\n"
    "        return;\n"
    "      }\n"
    "      if (+slider.value >= n - 1) setCkpt(0);\n"
    "      play.textContent = 'pause';\n"
    "      timer = setInterval(function () {\n"
    "        if (+slider.value >= n - 1) { play.click(); return; }\n"
    "        setCkpt(+slider.value + 1);\n"
    "      }, 700);\n"
    "    });\n"
    "    setCkpt(fromHash());\n"
    "  } else {\n"
    "    slider.disabled = true;\n"
    "    play.disabled = true;\n"
    "  }\n"
    "  document.body.setAttribute('data-view-ready', '1');\n"
    "})();\n";

/* ------------------------------------------------------------------------ */
/* text */

static void view_esc(sbuf *b, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '&': sbuf_puts(b, "&amp;"); break;
        case '<': sbuf_puts(b, "&lt;"); break;
        case '>': sbuf_puts(b, "&gt;"); break;
        case '"': sbuf_puts(b, "&quot;"); break;
        default: sbuf_append(b, s, 1);
        }
    }
}

/* A JSON string that cannot end the <script> element it sits in. */
static void view_json_str(sbuf *b, const char *s)
{
    sbuf t;
    sbuf_init(&t);
    sbuf_json_string(&t, s ? s : "");
    for (size_t i = 0; t.data && i < t.len; i++) {
        if (t.data[i] == '<' && i + 1 < t.len && t.data[i + 1] == '/')
            sbuf_puts(b, "<\\");
        else
            sbuf_append(b, &t.data[i], 1);
    }
    if (t.oom)
        b->oom = 1;
    sbuf_free(&t);
}

static void view_num(sbuf *b, double v)
{
    if (isfinite(v))
        sbuf_printf(b, "%.6g", v);
    else
        sbuf_puts(b, "null");
}

/* ------------------------------------------------------------------------ */
/* the summary table: summary.json flattened, nested members as a.b */

static void view_json_cell(sbuf *b, const json_t *v)
{
    if (json_is_string(v)) {
        view_esc(b, json_string_value(v));
    } else if (json_is_integer(v)) {
        sbuf_printf(b, "%lld", (long long)json_integer_value(v));
    } else if (json_is_real(v)) {
        sbuf_printf(b, "%.6g", json_real_value(v));
    } else if (json_is_true(v) || json_is_false(v)) {
        sbuf_puts(b, json_is_true(v) ? "true" : "false");
    } else if (json_is_null(v)) {
        sbuf_puts(b, "none");
    } else {
        char *t = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
        if (!t) {
            b->oom = 1;
            return;
        }
        /* a list of numbers reads best without the brackets */
        int plain = json_is_array(v) && json_array_size(v) > 0;
        for (size_t i = 0; plain && i < json_array_size(v); i++)
            plain = json_is_number(json_array_get(v, i));
        if (plain) {
            size_t n = strlen(t);
            t[n - 1] = '\0';
            for (char *c = t + 1; *c; c++)
                if (*c == ',')
                    sbuf_puts(b, ", ");
                else
                    sbuf_append(b, c, 1);
        } else if (json_is_array(v) && json_array_size(v) > 0) {
            sbuf_printf(b, "<details><summary>%zu entries</summary>", json_array_size(v));
            view_esc(b, t);
            sbuf_puts(b, "</details>");
        } else {
            view_esc(b, t);
        }
        free(t);
    }
}

static void view_summary_rows(sbuf *b, const json_t *obj, const char *prefix, int depth)
{
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)obj, key, v)
    {
        char path[512];
        int len = snprintf(path, sizeof path, "%s%s%s", prefix, prefix[0] ? "." : "", key);
        if (len < 0 || (size_t)len >= sizeof path)
            continue; /* no such key in a summary grok writes */
        if (json_is_object(v) && depth < 3) {
            view_summary_rows(b, v, path, depth + 1);
            continue;
        }
        sbuf_puts(b, "<div class=\"kv\"><span class=\"k\">");
        view_esc(b, path);
        sbuf_puts(b, "</span><span class=\"v\">");
        view_json_cell(b, v);
        sbuf_puts(b, "</span></div>\n");
    }
}

/* "task modular add, p 113, ..." from config.cfg's main keys. */
static void view_subtitle(sbuf *b, const rdir *r)
{
    char kind[64] = "";
    rundir_config_text(&r->config, "task.kind", kind, sizeof kind);
    const char *keys_modular[] = {"task.op", "task.p", "task.frac_train", NULL};
    const char *keys_group[] = {"task.group", "task.group_op", "task.frac_train", NULL};
    const char *keys_parity[] = {"task.n", "task.k", NULL};
    const char *const *task_keys = !strcmp(kind, "group")    ? keys_group
                                   : !strcmp(kind, "parity") ? keys_parity
                                                             : keys_modular;
    const char *rest[] = {"model.family", "model.n_layers", "model.d_model", "model.d_mlp",
                          "optim.kind",   "optim.lr",       "optim.weight_decay",
                          "train.epochs", "seed"};
    sbuf_puts(b, "<p class=\"sub\">");
    if (kind[0]) {
        sbuf_puts(b, "task ");
        view_esc(b, kind);
    }
    char buf[256];
    for (int i = 0; task_keys[i]; i++)
        if (rundir_config_text(&r->config, task_keys[i], buf, sizeof buf)) {
            sbuf_printf(b, ", %s ", strchr(task_keys[i], '.') + 1);
            view_esc(b, buf);
        }
    for (size_t i = 0; i < sizeof rest / sizeof rest[0]; i++)
        if (rundir_config_text(&r->config, rest[i], buf, sizeof buf)) {
            sbuf_printf(b, " &middot; %s ", rest[i]);
            view_esc(b, buf);
        }
    sbuf_puts(b, "<br>");
    view_esc(b, r->real);
    sbuf_puts(b, "</p>\n");
}

/* ------------------------------------------------------------------------ */
/* the curves */

typedef struct {
    const char *col, *name, *color, *dash;
} view_series_spec;

typedef struct {
    const char *title, *ylabel;
    int log;
    int measures; /* from measures.tsv (else metrics.tsv) */
    view_series_spec s[4];
} view_chart_spec;

/* Okabe-Ito colours, as the figures (plots/style.h): train blue, test
 * vermillion, restricted bluish green, excluded reddish purple. */
static const view_chart_spec view_charts[] = {
    {"Loss", "cross-entropy loss", 1, 0,
     {{"train_loss", "train", "#0072B2", NULL}, {"test_loss", "test", "#D55E00", NULL}}},
    {"Accuracy", "accuracy", 0, 0,
     {{"train_acc", "train", "#0072B2", NULL}, {"test_acc", "test", "#D55E00", NULL}}},
    {"Progress measures", "loss", 1, 1,
     {{"loss_train", "train", "#0072B2", NULL},
      {"loss_test", "test", "#D55E00", NULL},
      {"loss_restricted", "restricted", "#009E73", NULL},
      {"loss_excluded", "excluded", "#CC79A7", NULL}}},
    {"Gini coefficient of the Fourier norms", "Gini", 0, 1,
     {{"gini_WE", "W_E", "#0072B2", NULL}, {"gini_WL", "W_L", "#009E73", "5 3"}}},
    {"Weight norm", "sum of squared weights", 0, 1,
     {{"sum_sq_weights", "weights", "#E69F00", NULL}}},
};

/* Appends one chart's JSON object ("," first unless it is the first);
 * returns 1 when the table has its epoch and a series with a number. */
static int view_chart_json(sbuf *b, const rundir_tsv *t, const view_chart_spec *c, int first)
{
    int ce = rundir_tsv_col(t, "epoch");
    if (ce < 0 || t->n_rows == 0)
        return 0;
    int col[4], any = 0;
    for (int s = 0; s < 4; s++) {
        col[s] = c->s[s].col ? rundir_tsv_col(t, c->s[s].col) : -1;
        for (int i = 0; col[s] >= 0 && i < t->n_rows && !any; i++)
            any = isfinite(rundir_tsv_at(t, i, col[s]));
    }
    if (!any)
        return 0;
    int stride = (t->n_rows + VIEW_MAX_POINTS - 1) / VIEW_MAX_POINTS;
    if (stride < 1)
        stride = 1;
    sbuf_puts(b, first ? "\n  {" : ",\n  {");
    sbuf_puts(b, "\"title\": ");
    view_json_str(b, c->title);
    sbuf_puts(b, ", \"ylabel\": ");
    view_json_str(b, c->ylabel);
    sbuf_printf(b, ", \"log\": %s,\n   \"x\": [", c->log ? "true" : "false");
    int n = 0;
    for (int i = 0; i < t->n_rows; i++)
        if (i % stride == 0 || i == t->n_rows - 1) {
            sbuf_puts(b, n++ ? "," : "");
            view_num(b, rundir_tsv_at(t, i, ce));
        }
    sbuf_puts(b, "],\n   \"series\": [");
    int k = 0;
    for (int s = 0; s < 4; s++) {
        if (col[s] < 0)
            continue;
        sbuf_puts(b, k++ ? ",\n    {\"name\": " : "\n    {\"name\": ");
        view_json_str(b, c->s[s].name);
        sbuf_puts(b, ", \"color\": ");
        view_json_str(b, c->s[s].color);
        if (c->s[s].dash) {
            sbuf_puts(b, ", \"dash\": ");
            view_json_str(b, c->s[s].dash);
        }
        sbuf_puts(b, ", \"y\": [");
        n = 0;
        for (int i = 0; i < t->n_rows; i++)
            if (i % stride == 0 || i == t->n_rows - 1) {
                sbuf_puts(b, n++ ? "," : "");
                view_num(b, rundir_tsv_at(t, i, col[s]));
            }
        sbuf_puts(b, "]}");
    }
    sbuf_puts(b, "]}");
    return 1;
}

/* ------------------------------------------------------------------------ */
/* images */

/* Appends "data:<mime>;base64,..." of the file at path (a .png or .svg).
 * 1 appended; 0 left out with the reason in notes; or a negative status. */
static int view_data_uri(sbuf *b, const char *path, const char *what, sbuf *notes, grok_err *e)
{
    size_t len = strlen(path);
    const char *mime = len > 4 && !strcmp(path + len - 4, ".png")   ? "image/png"
                       : len > 4 && !strcmp(path + len - 4, ".svg") ? "image/svg+xml"
                                                                    : NULL;
    if (!mime) {
        if (notes)
            sbuf_printf(notes, "view: %s: %s is not a .png or .svg, left out\n", what, path);
        return 0;
    }
    char *data;
    size_t n;
    int rc = fileio_read_all(path, &data, &n, e);
    if (rc != GROK_OK)
        return rc;
    if (n > VIEW_IMAGE_MAX || n == 0) {
        if (notes)
            sbuf_printf(notes, "view: %s: %s has %zu bytes, left out\n", what, path, n);
        free(data);
        return 0;
    }
    sbuf_printf(b, "data:%s;base64,", mime);
    ipynb_base64(b, (const unsigned char *)data, n);
    free(data);
    return 1;
}

/* The figures of figures/: index.tsv's rows, each as its SVG when there is
 * one, else its file when a PNG or SVG; without an index, the PNGs. */
static int view_figures(sbuf *b, const rdir *r, sbuf *notes, int *count, grok_err *e)
{
    int n = r->has_figure_index ? r->figure_index.n_rows : r->n_figures;
    int cn = r->has_figure_index ? rundir_tsv_col(&r->figure_index, "name") : -1;
    int cf = r->has_figure_index ? rundir_tsv_col(&r->figure_index, "file") : -1;
    int cc = r->has_figure_index ? rundir_tsv_col(&r->figure_index, "caption") : -1;
    if (r->has_figure_index && (cn < 0 || cf < 0))
        n = 0;
    *count = 0;
    sbuf_puts(b, "<div id=\"figures\">\n");
    for (int i = 0; i < n; i++) {
        const char *name, *file, *caption = "";
        char stem[128];
        if (r->has_figure_index) {
            size_t at = (size_t)i * (size_t)r->figure_index.n_cols;
            name = r->figure_index.text[at + (size_t)cn];
            file = r->figure_index.text[at + (size_t)cf];
            if (cc >= 0)
                caption = r->figure_index.text[at + (size_t)cc];
        } else {
            file = r->figures[i];
            snprintf(stem, sizeof stem, "%s", file);
            char *dot = strrchr(stem, '.');
            if (dot)
                *dot = '\0';
            name = stem;
        }
        char rel[600], *path;
        snprintf(rel, sizeof rel, "%s/%s.svg", RUNDIR_FIGURES, name);
        if (!rundir_has(r->dir, rel))
            snprintf(rel, sizeof rel, "%s/%s", RUNDIR_FIGURES, file);
        if (!(path = rundir_join(r->dir, rel)))
            return grok_fail(e, GROK_ENOMEM, "view: out of memory");
        size_t mark = b->len;
        sbuf_puts(b, "<figure><img alt=\"");
        view_esc(b, name);
        sbuf_puts(b, "\" src=\"");
        int rc = view_data_uri(b, path, name, notes, e);
        free(path);
        if (rc < 0)
            return rc;
        if (rc == 0) {
            b->len = mark;
            if (b->data)
                b->data[mark] = '\0';
            continue;
        }
        sbuf_puts(b, "\"><figcaption><b>");
        view_esc(b, name);
        sbuf_puts(b, "</b>");
        if (caption[0]) {
            sbuf_puts(b, ": ");
            view_esc(b, caption);
        }
        sbuf_puts(b, "</figcaption></figure>\n");
        (*count)++;
    }
    if (*count == 0)
        sbuf_puts(b, "<p class=\"none\">No figures in figures/ (draw them with grok plot).</p>\n");
    sbuf_puts(b, "</div>\n");
    return GROK_OK;
}

/* ------------------------------------------------------------------------ */
/* the page */

int view_write(const char *dir, const char *out, const view_frames *fr, sbuf *notes,
               view_result *res, grok_err *e)
{
    GROK_ASSERT(dir);
    rdir r;
    int rc = rdir_open(&r, dir, e);
    if (rc != GROK_OK)
        return rc;
    static const view_frames none = {0};
    if (!fr)
        fr = &none;
    view_result vr = {0};
    sbuf b, data;
    sbuf_init(&b);
    sbuf_init(&data);

    /* the page's data: curves, marks, slider */
    sbuf_puts(&data, "window.VIEW_DATA = {\"curves\": [");
    for (size_t c = 0; c < sizeof view_charts / sizeof view_charts[0]; c++) {
        const view_chart_spec *spec = &view_charts[c];
        if (spec->measures && !r.has_measures)
            continue;
        vr.n_curves += view_chart_json(&data, spec->measures ? &r.measures : &r.metrics, spec,
                                       vr.n_curves == 0);
    }
    sbuf_puts(&data, "],\n\"marks\": [");
    static const char *const mark_key[2] = {"memorised_epoch", "grokked_epoch"};
    static const char *const mark_label[2] = {"memorised", "grokked"};
    int n_marks = 0;
    for (int k = 0; k < 2 && r.has_summary; k++) {
        long ep = rundir_summary_epoch(&r.summary, mark_key[k]);
        if (ep >= 0)
            sbuf_printf(&data, "%s{\"epoch\": %ld, \"label\": \"%s\"}", n_marks++ ? ", " : "", ep,
                        mark_label[k]);
    }
    sbuf_puts(&data, "],\n\"cursor\": null,\n\"epochs\": [");
    for (int c = 0; c < fr->n_ckpt; c++)
        sbuf_printf(&data, "%s%ld", c ? "," : "", fr->epochs[c]);
    sbuf_puts(&data, "],\n\"views\": [");
    for (int v = 0; v < fr->n_views; v++) {
        sbuf_puts(&data, v ? ", " : "");
        view_json_str(&data, fr->names[v]);
    }
    sbuf_puts(&data, "],\n\"frames\": [");
    for (int v = 0; v < fr->n_views && rc == GROK_OK; v++) {
        sbuf_puts(&data, v ? ",\n [" : "\n [");
        for (int c = 0; c < fr->n_ckpt && rc == GROK_OK; c++) {
            const char *f = fr->files[(size_t)c * (size_t)fr->n_views + (size_t)v];
            sbuf_puts(&data, c ? ",\n  " : "\n  ");
            char what[160];
            snprintf(what, sizeof what, "%s at epoch %ld", fr->names[v], fr->epochs[c]);
            size_t mark = data.len;
            sbuf_puts(&data, "\"");
            int got = f ? view_data_uri(&data, f, what, notes, e) : 0;
            if (got < 0) {
                rc = got;
            } else if (got == 0) {
                data.len = mark;
                data.data[mark] = '\0';
                sbuf_puts(&data, "null");
            } else {
                sbuf_puts(&data, "\"");
                vr.n_frames++;
            }
        }
        sbuf_puts(&data, "]");
    }
    sbuf_puts(&data, "]};\n");

    /* the page */
    sbuf_puts(&b, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                  "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                  "<meta name=\"generator\" content=\"grok view\">\n<title>");
    view_esc(&b, r.name);
    sbuf_puts(&b, " - grok view</title>\n<style>\n");
    sbuf_puts(&b, VIEW_CSS);
    sbuf_puts(&b, "</style>\n</head>\n<body>\n<div id=\"js-errors\" hidden></div>\n<script>\n");
    sbuf_puts(&b, VIEW_ERR_JS);
    sbuf_puts(&b, "</script>\n<h1>");
    view_esc(&b, r.name);
    sbuf_puts(&b, "</h1>\n");
    view_subtitle(&b, &r);

    sbuf_puts(&b, "<h2>Summary</h2>\n");
    if (r.has_summary && json_is_object(r.summary.root)) {
        sbuf_puts(&b, "<div class=\"summary\" id=\"summary\">\n");
        view_summary_rows(&b, r.summary.root, "", 0);
        sbuf_puts(&b, "</div>\n");
    } else {
        sbuf_puts(&b, "<p class=\"none\">No summary.json.</p>\n");
    }

    sbuf_puts(&b, "<h2>Curves</h2>\n<div id=\"charts\"></div>\n");
    if (vr.n_curves == 0)
        sbuf_puts(&b, "<p class=\"none\">metrics.tsv and measures.tsv have no curves to "
                      "draw.</p>\n");

    sbuf_puts(&b, "<h2>Checkpoints</h2>\n<div class=\"slider\"><button id=\"play\" "
                  "type=\"button\">play</button><input type=\"range\" id=\"ckpt\" min=\"0\" "
                  "max=\"0\" value=\"0\" step=\"1\" aria-label=\"checkpoint\"><span "
                  "id=\"ckpt-label\"></span></div>\n<div id=\"views\">\n");
    for (int v = 0; v < fr->n_views; v++) {
        sbuf_printf(&b, "<div class=\"view\"><h3>");
        view_esc(&b, fr->names[v]);
        sbuf_printf(&b, "</h3><img id=\"view-img-%d\" alt=\"", v);
        view_esc(&b, fr->names[v]);
        sbuf_printf(&b, "\"><div class=\"none\" id=\"view-none-%d\" style=\"display: none\">"
                        "not drawn at this checkpoint</div>",
                    v);
        if (fr->captions && fr->captions[v]) {
            sbuf_puts(&b, "<div class=\"caption\">");
            view_esc(&b, fr->captions[v]);
            sbuf_puts(&b, "</div>");
        }
        sbuf_puts(&b, "</div>\n");
    }
    if (fr->n_views == 0 || fr->n_ckpt == 0)
        sbuf_puts(&b, "<p class=\"none\">No per-checkpoint views were drawn.</p>\n");
    sbuf_puts(&b, "</div>\n");

    sbuf_puts(&b, "<h2>Figures</h2>\n");
    if (rc == GROK_OK)
        rc = view_figures(&b, &r, notes, &vr.n_figures, e);

    char *cfg = NULL;
    if (rc == GROK_OK && rundir_read_opt(dir, RUNDIR_CONFIG, &cfg, e) > 0) {
        sbuf_puts(&b, "<h2>Configuration</h2>\n<details><summary>config.cfg</summary>"
                      "<pre class=\"config\">");
        view_esc(&b, cfg);
        sbuf_puts(&b, "</pre></details>\n");
    }
    free(cfg);
    sbuf_puts(&b, "<script>\n");
    if (data.data)
        sbuf_append(&b, data.data, data.len);
    sbuf_puts(&b, "</script>\n<script>\n");
    sbuf_puts(&b, VIEW_JS);
    sbuf_puts(&b, "</script>\n</body>\n</html>\n");

    char *path = NULL;
    if (rc == GROK_OK && (b.oom || data.oom || (notes && notes->oom)))
        rc = grok_fail(e, GROK_ENOMEM, "view: out of memory building the page");
    if (rc == GROK_OK && !out && !(path = rundir_join(dir, VIEW_PAGE)))
        rc = grok_fail(e, GROK_ENOMEM, "view: out of memory");
    if (rc == GROK_OK)
        rc = fileio_write_atomic(out ? out : path, b.data, b.len, e);
    if (rc == GROK_OK) {
        vr.bytes = b.len;
        if (res)
            *res = vr;
    }
    free(path);
    sbuf_free(&b);
    sbuf_free(&data);
    rdir_free(&r);
    return rc;
}
