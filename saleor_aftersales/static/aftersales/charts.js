// Small SVG charts drawn by the page itself (no library): vertical bars
// (stacked), ranked horizontal bars, lines against a dashed target, legends and
// axes with round ticks. Every bar and point carries data-series, data-key and
// data-value (the number drawn, as the API gave it) and a <title> tooltip.
// Colours are Okabe-Ito's colour-blind-safe set, and each series also has its
// own pattern or marker, so colour is never the only cue.
"use strict";

const SVG_NS = "http://www.w3.org/2000/svg";
const OKABE_ITO = {
  blue: "#0072B2", orange: "#E69F00", green: "#009E73", vermillion: "#D55E00",
  sky: "#56B4E9", purple: "#CC79A7", yellow: "#F0E442", black: "#000000",
};
const CHART_TEXT = "#1d2330";
const CHART_GRID = "#e1e5eb";
let chartSequence = 0;

function svg(tag, attrs, ...children) {
  const node = document.createElementNS(SVG_NS, tag);
  Object.entries(attrs || {}).forEach(([key, value]) => {
    if (value !== null && value !== undefined && value !== false) node.setAttribute(key, value);
  });
  children.flat().forEach((child) => {
    if (child === null || child === undefined || child === false) return;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  });
  return node;
}

// Round steps (1, 2, 5 × 10^n) from 0 to at least ``max``.
function niceTicks(max, count, integer) {
  const top = max > 0 ? max : 1;
  let raw = top / (count || 5);
  if (integer) raw = Math.max(raw, 1);
  const power = Math.pow(10, Math.floor(Math.log10(raw)));
  const fraction = raw / power;
  const step = (fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10) * power;
  const ticks = [];
  for (let value = 0; value < top + step / 2; value += step) ticks.push(Number(value.toPrecision(12)));
  if (ticks[ticks.length - 1] < top) ticks.push(Number((ticks[ticks.length - 1] + step).toPrecision(12)));
  return ticks;
}

// A series' fill: its colour, solid or under a pattern of white marks drawn in
// the chart's own <defs> (ids are unique in the page).
function seriesFill(defs, series) {
  const pattern = series.pattern || "solid";
  if (pattern === "solid") return series.color;
  const id = `chart-pattern-${++chartSequence}`;
  const marks = {
    stripes: [svg("path", { d: "M-1,1 l2,-2 M0,6 l6,-6 M5,7 l2,-2", stroke: "#fff", "stroke-width": 1.6 })],
    dots: [svg("circle", { cx: 3, cy: 3, r: 1.3, fill: "#fff" })],
    cross: [svg("path", { d: "M0,3 h6 M3,0 v6", stroke: "#fff", "stroke-width": 1.3 })],
    light: [],
  }[pattern] || [];
  defs.append(svg("pattern", { id, width: 6, height: 6, patternUnits: "userSpaceOnUse" },
    svg("rect", { width: 6, height: 6, fill: series.color, "fill-opacity": pattern === "light" ? 0.35 : 1 }), marks));
  return `url(#${id})`;
}

// A bar or point that opens something when clicked, also from the keyboard.
function clickable(node, onClick) {
  if (!onClick) return node;
  node.setAttribute("tabindex", "0");
  node.setAttribute("role", "button");
  node.setAttribute("class", `${node.getAttribute("class") || ""} clickable`.trim());
  node.addEventListener("click", onClick);
  node.addEventListener("keydown", (event) => {
    if (event.key === "Enter" || event.key === " ") { event.preventDefault(); onClick(); }
  });
  return node;
}

function chartFrame(width, height, title) {
  // A group, not an image: its bars and points are reachable (and clickable).
  const root = svg("svg", { width, height, viewBox: `0 0 ${width} ${height}`, role: "group",
    "aria-label": title, class: "chart-svg", "font-size": 12, fill: CHART_TEXT });
  const defs = svg("defs");
  root.append(svg("title", {}, title), defs);
  return { root, defs };
}

// About how wide a text is drawn: CJK characters take a whole em.
const textWidth = (text, size) => [...String(text)].reduce((sum, c) => sum + (/[\u2e80-\uffef]/.test(c) ? 1 : 0.62), 0) * (size || 12);

// ``text`` cut to about ``width`` pixels, ending in an ellipsis when cut.
function fitText(text, width, size) {
  const chars = [...String(text)];
  if (textWidth(text, size) <= width) return String(text);
  while (chars.length > 1 && textWidth(chars.join("") + "…", size) > width) chars.pop();
  return `${chars.join("")}…`;
}

// Which category labels fit under the axis: every n-th.
function labelStep(labels, band) {
  const widest = Math.max(...labels.map((l) => textWidth(l, 11)), 1) + 6;
  return Math.max(1, Math.ceil(widest / Math.max(band, 1)));
}

function yAxis(plot, ticks, y, left, right, format) {
  return ticks.map((tick) => svg("g", { class: "tick" },
    svg("line", { x1: left, x2: right, y1: y(tick), y2: y(tick), stroke: CHART_GRID }),
    svg("text", { x: left - 6, y: y(tick) + 4, "text-anchor": "end", "font-size": 11 }, format(tick))));
}

// Vertical bars, one band per category; several series stack.
// opts: width, height, title, categories [{key, label, title}], series [{name,
// label, values (numbers, null for none), raw (as the API gave them), color,
// pattern}], format(value), integer, onClick(series, category, value).
function barChart(opts) {
  const width = Math.max(opts.width, 200);
  const height = opts.height || 220;
  const format = opts.format || String;
  const categories = opts.categories;
  const totals = categories.map((_, i) => opts.series.reduce((sum, s) => sum + (Number(s.values[i]) || 0), 0));
  const ticks = niceTicks(Math.max(0, ...totals), 4, opts.integer);
  const top = ticks[ticks.length - 1];
  const left = Math.max(...ticks.map((tick) => textWidth(format(tick), 11))) + 12;
  const margin = { top: 10, right: 8, bottom: 34, left };
  const plotWidth = width - margin.left - margin.right;
  const plotHeight = height - margin.top - margin.bottom;
  const y = (value) => margin.top + plotHeight - (value / top) * plotHeight;
  const band = plotWidth / Math.max(categories.length, 1);
  const barWidth = Math.max(band * 0.78, 0.5);
  const { root, defs } = chartFrame(width, height, opts.title);
  root.append(...yAxis(root, ticks, y, margin.left, width - margin.right, format));
  const stacks = categories.map(() => 0);
  opts.series.forEach((series) => {
    const fill = seriesFill(defs, series);
    const group = svg("g", { class: "series", "data-name": series.name });
    categories.forEach((category, i) => {
      const value = Number(series.values[i]) || 0;
      const base = stacks[i];
      stacks[i] += value;
      const x = margin.left + i * band + (band - barWidth) / 2;
      const raw = series.raw ? series.raw[i] : series.values[i];
      const bar = svg("rect", {
        class: "bar", x: x.toFixed(2), width: barWidth.toFixed(2), y: y(base + value).toFixed(2),
        height: Math.max(y(base) - y(base + value), 0).toFixed(2), fill, stroke: value && barWidth >= 4 ? "#fff" : "none",
        "stroke-width": value && barWidth >= 4 ? 0.5 : 0, "data-series": series.name, "data-key": category.key, "data-value": raw,
      }, svg("title", {}, `${category.title || category.label} · ${series.label}: ${format(value)}`));
      group.append(opts.onClick && value ? clickable(bar, () => opts.onClick(series, category, raw)) : bar);
    });
    root.append(group);
  });
  const every = labelStep(categories.map((c) => c.label), band);
  categories.forEach((category, i) => {
    if (i % every) return;
    root.append(svg("text", { x: (margin.left + (i + 0.5) * band).toFixed(2), y: height - margin.bottom + 16,
      "text-anchor": "middle", "font-size": 11 }, category.label));
  });
  root.append(svg("line", { x1: margin.left, x2: width - margin.right, y1: y(0), y2: y(0), stroke: "#8a93a3" }));
  return root;
}

// Ranked horizontal bars with their values written beside them; with
// ``previousSeries`` each row also gets a lighter bar for the previous period.
// Where the chart is narrow, each row's name goes above its bar. Names too long
// are cut, the whole name in the tooltip.
// opts: width, title, rows [{key, label, title, value, raw, display, previous,
// previousDisplay}], series {name, label, color, pattern}, previousSeries,
// onClick(row).
function rankedBars(opts) {
  const width = Math.max(opts.width, 220);
  const rows = opts.rows;
  const compare = Boolean(opts.previousSeries);
  const narrow = width < 480;
  const labelWidth = narrow ? width - 4 : Math.min(Math.round(width * 0.32), 200);
  const plotLeft = narrow ? 2 : labelWidth + 8;
  const valueWidth = Math.min(Math.max(...rows.map((r) => textWidth(r.display, 11)), 24) + 8, Math.round((width - plotLeft) * 0.6));
  const barHeight = compare ? 16 : 18;
  const rowHeight = (narrow ? 16 : 0) + barHeight + (compare ? 16 : 6);
  const height = Math.max(rows.length, 1) * rowHeight + 8;
  const { root, defs } = chartFrame(width, height, opts.title);
  const plotWidth = Math.max(width - plotLeft - valueWidth, 20);
  const max = Math.max(0, ...rows.map((r) => Number(r.value) || 0), ...rows.map((r) => Number(r.previous) || 0)) || 1;
  const fill = seriesFill(defs, opts.series);
  const previousFill = compare ? seriesFill(defs, opts.previousSeries) : null;
  rows.forEach((row, i) => {
    const top = 4 + i * rowHeight + (narrow ? 16 : 0);
    root.append(svg("text", { x: narrow ? plotLeft : labelWidth, y: narrow ? top - 4 : top + 13, "text-anchor": narrow ? "start" : "end",
      class: "row-label" }, fitText(row.label, labelWidth, 12), svg("title", {}, row.title || row.label)));
    const length = ((Number(row.value) || 0) / max) * plotWidth;
    const bar = svg("rect", { class: "bar", x: plotLeft, y: top, width: length.toFixed(2), height: barHeight, fill,
      "data-series": opts.series.name, "data-key": row.key, "data-value": row.raw !== undefined ? row.raw : row.value },
    svg("title", {}, `${row.title || row.label}: ${row.display}`));
    root.append(opts.onClick && Number(row.value) ? clickable(bar, () => opts.onClick(row)) : bar);
    root.append(svg("text", { x: plotLeft + length + 4, y: top + 13, "font-size": 11, class: "value-label" },
      fitText(row.display, width - plotLeft - length - 6, 11), svg("title", {}, row.display)));
    if (compare) {
      const previousLength = ((Number(row.previous) || 0) / max) * plotWidth;
      root.append(svg("rect", { class: "bar previous", x: plotLeft, y: top + barHeight + 2, width: previousLength.toFixed(2),
        height: 9, fill: previousFill, stroke: opts.previousSeries.color, "stroke-width": 0.6,
        "data-series": opts.previousSeries.name, "data-key": row.key, "data-value": row.previous },
      svg("title", {}, `${row.title || row.label} · ${opts.previousSeries.label}: ${row.previousDisplay}`)));
      root.append(svg("text", { x: plotLeft + previousLength + 4, y: top + barHeight + 10, "font-size": 9,
        fill: "#5b6472" }, row.previousDisplay));
    }
  });
  root.append(svg("line", { x1: plotLeft, x2: plotLeft, y1: narrow ? 18 : 2, y2: height - 2, stroke: "#8a93a3" }));
  return root;
}

const MARKERS = {
  circle: (x, y) => svg("circle", { cx: x, cy: y, r: 4.5 }),
  square: (x, y) => svg("rect", { x: x - 4, y: y - 4, width: 8, height: 8 }),
  diamond: (x, y) => svg("path", { d: `M${x},${y - 5.5} l5.5,5.5 l-5.5,5.5 l-5.5,-5.5 z` }),
};

// Lines over categories (a gap where a value is null), each point a marker, and
// a dashed line at the target.
// opts: width, height, title, categories, series [{name, label, values, color,
// marker}], target {value, label}, max (the axis' top at least), format,
// onClick(series, category, value).
function lineChart(opts) {
  const width = Math.max(opts.width, 200);
  const height = opts.height || 200;
  const format = opts.format || String;
  const categories = opts.categories;
  const values = opts.series.flatMap((s) => s.values.filter((v) => v !== null && v !== undefined).map(Number));
  const target = opts.target && opts.target.value !== null && opts.target.value !== undefined ? Number(opts.target.value) : null;
  const ticks = niceTicks(Math.max(0, opts.max || 0, target || 0, ...values) * (opts.max ? 1 : 1.1), 4);
  const top = ticks[ticks.length - 1];
  const left = Math.max(...ticks.map((tick) => textWidth(format(tick), 11))) + 12;
  const margin = { top: 12, right: 12, bottom: 34, left };
  const plotWidth = width - margin.left - margin.right;
  const plotHeight = height - margin.top - margin.bottom;
  const band = plotWidth / Math.max(categories.length, 1);
  const x = (i) => margin.left + (i + 0.5) * band;
  const y = (value) => margin.top + plotHeight - (value / top) * plotHeight;
  const { root } = chartFrame(width, height, opts.title);
  root.append(...yAxis(root, ticks, y, margin.left, width - margin.right, format));
  if (target !== null) {
    root.append(svg("line", { class: "target", x1: margin.left, x2: width - margin.right, y1: y(target), y2: y(target),
      stroke: OKABE_ITO.vermillion, "stroke-width": 1.5, "stroke-dasharray": "6 4", "data-series": "target", "data-value": target },
    svg("title", {}, `${opts.target.label}: ${format(target)}`)));
    root.append(svg("text", { x: width - margin.right, y: y(target) - 4, "text-anchor": "end", "font-size": 10,
      fill: OKABE_ITO.vermillion }, `${opts.target.label} ${format(target)}`));
  }
  opts.series.forEach((series) => {
    let path = "";
    let pen = false;
    series.values.forEach((value, i) => {
      if (value === null || value === undefined) { pen = false; return; }
      path += `${pen ? "L" : "M"}${x(i).toFixed(2)},${y(Number(value)).toFixed(2)} `;
      pen = true;
    });
    const group = svg("g", { class: "series", "data-name": series.name, fill: series.color });
    if (path) group.append(svg("path", { d: path.trim(), fill: "none", stroke: series.color, "stroke-width": 2 }));
    series.values.forEach((value, i) => {
      if (value === null || value === undefined) return;
      const point = (MARKERS[series.marker] || MARKERS.circle)(x(i), y(Number(value)));
      point.setAttribute("class", "point");
      point.setAttribute("stroke", "#fff");
      point.setAttribute("data-series", series.name);
      point.setAttribute("data-key", categories[i].key);
      point.setAttribute("data-value", value);
      point.append(svg("title", {}, `${categories[i].title || categories[i].label} · ${series.label}: ${format(Number(value))}`));
      group.append(opts.onClick ? clickable(point, () => opts.onClick(series, categories[i], value)) : point);
    });
    root.append(group);
  });
  const every = labelStep(categories.map((c) => c.label), band);
  categories.forEach((category, i) => {
    if (i % every) return;
    root.append(svg("text", { x: x(i).toFixed(2), y: height - margin.bottom + 16, "text-anchor": "middle",
      "font-size": 11 }, category.label));
  });
  root.append(svg("line", { x1: margin.left, x2: width - margin.right, y1: y(0), y2: y(0), stroke: "#8a93a3" }));
  return root;
}

// The series' names beside a swatch of their fill (pattern included) or marker.
function chartLegend(series) {
  return el("ul", { class: "legend" }, series.map((s) => {
    const swatch = svg("svg", { width: 22, height: 14, viewBox: "0 0 22 14", "aria-hidden": "true" });
    if (s.marker || s.dashed) {
      swatch.append(svg("line", { x1: 1, x2: 21, y1: 7, y2: 7, stroke: s.color, "stroke-width": 2,
        "stroke-dasharray": s.dashed ? "5 3" : null }));
      if (s.marker) {
        const mark = MARKERS[s.marker](11, 7);
        mark.setAttribute("fill", s.color);
        swatch.append(mark);
      }
    } else {
      const defs = svg("defs");
      swatch.append(defs, svg("rect", { x: 1, y: 1, width: 20, height: 12, fill: seriesFill(defs, s), stroke: s.color }));
    }
    return el("li", { "data-series": s.name }, swatch, " ", s.label);
  }));
}
