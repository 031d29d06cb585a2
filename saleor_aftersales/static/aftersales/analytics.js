// The desk's analytics view: a period's claims, SLA, reasons, return rates,
// refunds and ratings (aftersalesAnalytics) as tiles and SVG charts (charts.js).
// Its state lives in the address (#analytics?from=…&to=…&types=…&channel=…
// &compare=1), so a reload or a shared link shows the same; clicking a bar opens
// the queue filtered to the claims behind it.
"use strict";

const ANALYTICS_QUERY = `query Analytics($period: DateRangeInput, $types: [AftersalesRequestType!], $channel: String, $top: Int) {
  aftersalesAnalytics(period: $period, types: $types, channel: $channel, topProducts: $top) {
    periodStart periodEnd previousStart previousEnd timeZone channels days
    current { ...AnalyticsSummary } previous { ...AnalyticsSummary }
    openedPerDay { type counts }
    reasons { reason units previousUnits }
    returnRates { productId productName unitsSold unitsClaimed ratePercent }
    weeks { start end opened slaEvaluated slaMet slaCompliancePercent medianFirstResponseHours medianResolutionHours }
    targets { firstResponseHours resolutionHours slaCompliancePercent }
    refundsPerDay { currency method amounts counts }
    ratings { rating count }
  }
}
fragment AnalyticsSummary on AftersalesAnalyticsSummary {
  claimCount unitsClaimed slaEvaluated slaMet slaCompliancePercent
  medianFirstResponseHours medianResolutionHours averageRating ratingCount
  refunds { method count total { amount currency } }
}`;
const CLAIM_TYPES = ["RETURN", "EXCHANGE", "REPAIR"];
const TYPE_STYLE = {
  RETURN: { color: OKABE_ITO.blue, pattern: "solid" },
  EXCHANGE: { color: OKABE_ITO.orange, pattern: "stripes" },
  REPAIR: { color: OKABE_ITO.green, pattern: "dots" },
};
const METHOD_STYLE = {
  REFUND: { color: OKABE_ITO.blue, pattern: "solid" },
  STORE_CREDIT: { color: OKABE_ITO.vermillion, pattern: "stripes" },
};
const TOP_PRODUCTS = 10;

// --- dates as the API speaks them: "YYYY-MM-DD", days in the desk's zone ---
function isoDay(d) { return d.toISOString().slice(0, 10); }
function parseDay(text) { return new Date(`${text}T00:00:00Z`); }
function addDays(text, days) { const d = parseDay(text); d.setUTCDate(d.getUTCDate() + days); return isoDay(d); }
function today() {
  const now = new Date();
  return isoDay(new Date(Date.UTC(now.getFullYear(), now.getMonth(), now.getDate())));
}
function monthRange(month) {
  const [y, m] = month.split("-").map(Number);
  return [isoDay(new Date(Date.UTC(y, m - 1, 1))), isoDay(new Date(Date.UTC(y, m, 0)))];
}
const validDay = (text) => /^\d{4}-\d{2}-\d{2}$/.test(text || "") && !Number.isNaN(parseDay(text).getTime());

const locale = () => (LANGUAGE === "zh-Hans" ? "zh-CN" : "en-GB");
function dayLabel(text, long) {
  return new Intl.DateTimeFormat(locale(), long ? { year: "numeric", month: "short", day: "numeric", timeZone: "UTC" }
    : { month: "short", day: "numeric", timeZone: "UTC" }).format(parseDay(text));
}
function number(value, digits) {
  if (value === null || value === undefined) return "—";
  return new Intl.NumberFormat(locale(), { maximumFractionDigits: digits === undefined ? 1 : digits,
    minimumFractionDigits: 0 }).format(Number(value));
}
function amount(value, currency) {
  return new Intl.NumberFormat(locale(), { style: "currency", currency, currencyDisplay: "code" }).format(Number(value));
}
const methodLabel = (method) => (method === "REFUND" ? t("REFUNDM") : t(method));

// --- the view's state, read from and written to the address ---
const analytics = { from: null, to: null, preset: "30", types: [], channel: "", compare: false, cache: null, observers: [] };

function readAnalyticsAddress() {
  const query = new URLSearchParams((location.hash.split("?")[1]) || "");
  analytics.from = validDay(query.get("from")) ? query.get("from") : null;
  analytics.to = validDay(query.get("to")) ? query.get("to") : null;
  analytics.types = (query.get("types") || "").split(",").filter((x) => CLAIM_TYPES.includes(x));
  analytics.channel = query.get("channel") || "";
  analytics.compare = query.get("compare") === "1";
  if (!analytics.from || !analytics.to || analytics.from > analytics.to) setPreset("30");
  else analytics.preset = presetOf(analytics.from, analytics.to);
}

function writeAnalyticsAddress() {
  const query = new URLSearchParams({ from: analytics.from, to: analytics.to });
  if (analytics.types.length) query.set("types", analytics.types.join(","));
  if (analytics.channel) query.set("channel", analytics.channel);
  if (analytics.compare) query.set("compare", "1");
  history.replaceState(null, "", `#analytics?${query.toString().replace(/%2C/g, ",")}`);
}

function setPreset(preset) {
  analytics.preset = preset;
  if (["7", "30", "90"].includes(preset)) {
    analytics.to = today();
    analytics.from = addDays(analytics.to, 1 - Number(preset));
  } else if (preset === "month") {
    [analytics.from, analytics.to] = monthRange((analytics.from || today()).slice(0, 7));
  }
}

function presetOf(from, to) {
  for (const days of ["7", "30", "90"]) if (to === today() && from === addDays(to, 1 - Number(days))) return days;
  const [first, last] = monthRange(from.slice(0, 7));
  return from === first && to === last ? "month" : "custom";
}

function openAnalytics() {
  desk.view = "analytics";
  desk.claimId = null;
  desk.notice = null;
  if (!analytics.from) readAnalyticsAddress();
  writeAnalyticsAddress();
  render();
}

// The queue, filtered to the claims behind a bar (aftersalesRequests' filter).
function queueFor(extra) {
  const filter = Object.assign({ created: { gte: analytics.from, lte: analytics.to } }, extra);
  if (!filter.type && analytics.types.length) filter.type = analytics.types.slice();
  if (analytics.channel) filter.channel = analytics.channel;
  return filter;
}

function openQueueWith(filter, names) {
  desk.filter = { status: "", type: "", overdue: false, search: "" };
  desk.extra = filter;
  desk.extraNames = names || {};
  desk.view = "queue";
  desk.claimId = null;
  desk.notice = null;
  history.replaceState(null, "", queueAddress());
  render();
}

// --- CSV and data tables ---
// A cell a spreadsheet would read as a formula is written as text.
function csvCell(value) {
  if (value === null || value === undefined) return "";
  let text = String(value);
  if (typeof value === "string" && /^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\n\r;]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

function downloadCsv(name, rows) {
  const body = rows.map((row) => row.map(csvCell).join(",")).join("\r\n") + "\r\n";
  const blob = new Blob(["\uFEFF", body], { type: "text/csv;charset=utf-8" });
  const url = URL.createObjectURL(blob);
  const link = el("a", { href: url, download: `aftersales-${name}-${analytics.from}-${analytics.to}.csv`, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60000);
}

function dataTable(rows) {
  const [head, ...body] = rows;
  const cell = (value) => (typeof value === "number" ? number(value, 2) : value === null || value === undefined ? "—" : value);
  return el("div", { class: "table-wrap" }, el("table", {}, el("thead", {}, el("tr", {}, head.map((h) => el("th", { scope: "col" }, h)))),
    el("tbody", {}, body.map((row) => el("tr", {}, row.map((value, i) => (i === 0 ? el("th", { scope: "row" }, cell(value)) : el("td", {}, cell(value)))))))));
}

// A chart's card: title, CSV button, legend, the drawing (redrawn to the
// card's width) and its data as a table.
function chartCard(id, title, rows, draw, legend) {
  const plot = el("div", { class: "plot" });
  const card = el("section", { class: "chart", id },
    el("div", { class: "chart-head" }, el("h3", {}, title),
      el("button", { type: "button", class: "csv", onclick: () => downloadCsv(id.replace(/^chart-/, ""), rows) }, t("csv"))),
    legend || null, plot,
    el("details", {}, el("summary", {}, t("dataTable")), dataTable(rows)));
  let drawnAt = 0;
  const observer = new ResizeObserver((entries) => {
    const width = Math.floor(entries[0].contentRect.width);
    if (width > 0 && width !== drawnAt) {
      drawnAt = width;
      plot.replaceChildren(draw(width));
    }
  });
  observer.observe(plot);
  analytics.observers.push(observer);
  return card;
}

// --- the view ---
async function analyticsView(main) {
  analytics.observers.splice(0).forEach((o) => o.disconnect());
  if (!analytics.from) readAnalyticsAddress();
  const rerun = () => { writeAnalyticsAddress(); render(); };
  const preset = el("select", { id: "period", onchange: (e) => { setPreset(e.target.value); rerun(); } },
    [["7", "last7"], ["30", "last30"], ["90", "last90"], ["month", "calendarMonth"], ["custom", "customPeriod"]].map(([value, key]) =>
      el("option", { value, selected: analytics.preset === value }, t(key))));
  const month = analytics.preset === "month" ? el("label", {}, t("month"), el("input", { type: "month", id: "period-month",
    value: analytics.from.slice(0, 7), onchange: (e) => { if (e.target.value) { [analytics.from, analytics.to] = monthRange(e.target.value); rerun(); } } })) : null;
  const custom = analytics.preset === "custom" ? [
    el("label", {}, t("from"), el("input", { type: "date", id: "period-from", value: analytics.from, max: analytics.to,
      onchange: (e) => { if (validDay(e.target.value) && e.target.value <= analytics.to) { analytics.from = e.target.value; rerun(); } } })),
    el("label", {}, t("to"), el("input", { type: "date", id: "period-to", value: analytics.to, min: analytics.from,
      onchange: (e) => { if (validDay(e.target.value) && e.target.value >= analytics.from) { analytics.to = e.target.value; rerun(); } } })),
  ] : null;
  const chosen = analytics.types.length ? analytics.types : CLAIM_TYPES;
  const types = el("fieldset", { id: "analytics-types", class: "checks" }, el("legend", {}, t("claimTypes")),
    CLAIM_TYPES.map((type) => el("label", { class: "inline" }, el("input", { type: "checkbox", value: type,
      checked: chosen.includes(type), disabled: chosen.length === 1 && chosen.includes(type),
      onchange: (e) => {
        const next = CLAIM_TYPES.filter((x) => (x === type ? e.target.checked : chosen.includes(x)));
        analytics.types = next.length === CLAIM_TYPES.length ? [] : next;
        rerun();
      } }), t(type))));
  const channelSlot = el("span", { id: "channel-slot" });
  const errors = el("div", { id: "analytics-errors" });
  put(main, el("h2", {}, t("analytics")), el("form", { id: "analytics-controls", class: "filters", onsubmit: (e) => e.preventDefault() },
    el("label", {}, t("period"), preset), month, custom, types, channelSlot,
    el("label", { class: "inline" }, el("input", { type: "checkbox", id: "compare", checked: analytics.compare,
      onchange: (e) => { analytics.compare = e.target.checked; rerun(); } }), t("comparePrevious")),
    el("button", { type: "button", id: "export-claims", onclick: (e) => whileBusy(e.currentTarget, () => exportClaims(errors)) }, t("exportClaims"))),
  errors);
  const holder = el("div", { id: "analytics", "aria-busy": "true" }, el("p", {}, t("loading")));
  put(main, holder);
  const variables = { period: { gte: analytics.from, lte: analytics.to }, types: analytics.types.length ? analytics.types : null,
    channel: analytics.channel || null, top: TOP_PRODUCTS };
  const key = JSON.stringify(variables);
  let data;
  try {
    data = analytics.cache && analytics.cache.key === key ? analytics.cache.data
      : (await call(ANALYTICS_QUERY, variables)).aftersalesAnalytics;
    analytics.cache = { key, data };
  } catch (e) {
    holder.removeAttribute("aria-busy");
    showErrors(holder, e);
    return;
  }
  if (data.channels.length || analytics.channel) {
    channelSlot.replaceChildren(el("label", {}, t("channel"), el("select", { id: "channel", onchange: (e) => { analytics.channel = e.target.value; rerun(); } },
      el("option", { value: "" }, t("allChannels")),
      [...new Set([...data.channels, analytics.channel].filter(Boolean))].map((c) => el("option", { value: c, selected: c === analytics.channel }, c)))));
  }
  holder.replaceChildren(
    el("p", { class: "meta", id: "analytics-period" }, `${dayLabel(data.periodStart, true)} – ${dayLabel(data.periodEnd, true)}`,
      analytics.compare ? ` · ${t("previousPeriod")}: ${dayLabel(data.previousStart, true)} – ${dayLabel(data.previousEnd, true)}` : "",
      ` · ${data.timeZone}`),
    summaryTiles(data),
    el("div", { class: "charts" }, openedChart(data), reasonsChart(data), returnRatesChart(data),
      weeklyCharts(data), refundCharts(data), ratingsChart(data)));
  holder.setAttribute("data-loaded", key);
  holder.removeAttribute("aria-busy");
}

async function exportClaims(errors) {
  errors.replaceChildren();
  try {
    const filter = queueFor({});
    const data = await call("query($filter: AftersalesRequestFilterInput) { aftersalesExportUrl(filter: $filter) }", { filter });
    location.assign(data.aftersalesExportUrl);
  } catch (e) { showErrors(errors, e); }
}

// --- summary tiles ---
function refundsByCurrency(summary) {
  const totals = {};
  summary.refunds.forEach((r) => { totals[r.total.currency] = (totals[r.total.currency] || 0) + Number(r.total.amount); });
  return totals;
}

function summaryTiles(data) {
  const current = data.current;
  const previous = data.previous;
  const hours = (v) => (v === null || v === undefined ? "—" : `${number(v)} ${t("hoursShort")}`);
  const tiles = [
    ["claims", t("claimsOpened"), current.claimCount, previous.claimCount, (v) => number(v, 0)],
    ["sla", t("slaCompliance"), current.slaCompliancePercent, previous.slaCompliancePercent, (v) => (v === null ? "—" : `${number(v)}%`)],
    ["first-response", t("medianFirstResponse"), current.medianFirstResponseHours, previous.medianFirstResponseHours, hours],
    ["resolution", t("medianResolution"), current.medianResolutionHours, previous.medianResolutionHours, hours],
    ["rating", t("averageRating"), current.averageRating, previous.averageRating, (v) => (v === null ? "—" : number(v, 2))],
  ];
  const now = refundsByCurrency(current);
  const before = refundsByCurrency(previous);
  const currencies = [...new Set([...Object.keys(now), ...(analytics.compare ? Object.keys(before) : [])])].sort();
  currencies.forEach((c) => tiles.push([`refunds-${c}`, t("refundedIn", { currency: c }), now[c] || 0, before[c] || 0, (v) => amount(v, c)]));
  return el("div", { class: "tiles", id: "tiles" }, tiles.map(([key, title, value, old, format]) => {
    const tile = el("div", { class: "tile", "data-key": key, "data-value": value === null || value === undefined ? "" : value },
      el("span", { class: "tile-label" }, title), el("strong", { class: "tile-value" }, value === null || value === undefined ? "—" : format(value)));
    if (analytics.compare) {
      tile.setAttribute("data-previous", old === null || old === undefined ? "" : old);
      const change = value === null || value === undefined || old === null || old === undefined ? null : Number(value) - Number(old);
      const sign = change > 0 ? "▲ +" : change < 0 ? "▼ −" : "";
      put(tile, el("span", { class: "tile-previous" }, `${t("previousPeriod")}: ${old === null || old === undefined ? "—" : format(old)}`),
        change === null ? null : el("span", { class: "tile-change", "data-change": change },
          `${t("change")}: ${change === 0 ? "±0" : sign + format(Math.abs(change))}`,
          Number(old) ? ` (${change > 0 ? "+" : change < 0 ? "−" : ""}${number(Math.abs(change / Number(old)) * 100, 0)}%)` : ""));
    }
    return tile;
  }));
}

// --- charts ---
function openedChart(data) {
  const categories = data.days.map((day) => ({ key: day, label: dayLabel(day), title: dayLabel(day, true) }));
  const series = data.openedPerDay.map((s) => Object.assign({ name: s.type, label: t(s.type), values: s.counts }, TYPE_STYLE[s.type]));
  const rows = [[t("day"), ...series.map((s) => s.label)], ...data.days.map((day, i) => [day, ...series.map((s) => s.values[i])])];
  return chartCard("chart-opened", t("openedPerDay"), rows, (width) => barChart({ width, title: t("openedPerDay"), categories, series,
    integer: true, format: (v) => number(v, 0),
    onClick: (s, day) => openQueueWith(queueFor({ type: [s.name], created: { gte: day.key, lte: day.key } })) }), chartLegend(series));
}

function reasonsChart(data) {
  const compare = analytics.compare;
  const rows = data.reasons.map((r) => ({ key: r.reason, label: label("reason_", r.reason), value: r.units, display: number(r.units, 0),
    previous: r.previousUnits, previousDisplay: number(r.previousUnits, 0) }));
  const series = { name: "units", label: t("current"), color: OKABE_ITO.blue, pattern: "solid" };
  const previousSeries = compare ? { name: "previousUnits", label: t("previousPeriod"), color: OKABE_ITO.sky, pattern: "light" } : null;
  const table = [[t("reason"), t("units"), ...(compare ? [t("previousPeriod")] : [])],
    ...data.reasons.map((r) => [label("reason_", r.reason), r.units, ...(compare ? [r.previousUnits] : [])])];
  return chartCard("chart-reasons", t("reasonsUnits"), table, (width) => (rows.length ? rankedBars({ width, title: t("reasonsUnits"), rows, series,
    previousSeries, onClick: (row) => openQueueWith(queueFor({ reason: [row.key] })) }) : el("p", { class: "meta" }, t("noData"))),
  compare ? chartLegend([series, previousSeries]) : null);
}

function returnRatesChart(data) {
  const rows = data.returnRates.map((p) => ({ key: p.productId, label: p.productName, title: p.productName, value: p.ratePercent,
    display: t("rateLabel", { rate: number(p.ratePercent), returned: number(p.unitsClaimed, 0), sold: number(p.unitsSold, 0) }) }));
  const table = [[t("product"), t("unitsSold"), t("unitsReturned"), t("ratePercent")],
    ...data.returnRates.map((p) => [p.productName, p.unitsSold, p.unitsClaimed, p.ratePercent])];
  const types = ["RETURN", "EXCHANGE"].filter((x) => !analytics.types.length || analytics.types.includes(x));
  return chartCard("chart-return-rates", t("returnRatePerProduct"), table, (width) => (rows.length ? rankedBars({ width,
    title: t("returnRatePerProduct"), rows, series: { name: "ratePercent", label: t("returnRate"), color: OKABE_ITO.orange, pattern: "solid" },
    onClick: (row) => openQueueWith(queueFor({ product: row.key, type: types }), { product: row.label }) }) : el("p", { class: "meta" }, t("noData"))));
}

function weeklyCharts(data) {
  const categories = data.weeks.map((w) => ({ key: w.start, label: dayLabel(w.start), title: `${dayLabel(w.start, true)} – ${dayLabel(w.end, true)}` }));
  const openWeek = (s, week) => {
    const found = data.weeks.find((w) => w.start === week.key);
    openQueueWith(queueFor({ created: { gte: found.start, lte: found.end } }));
  };
  const chart = (id, title, field, target, style, format, max) => {
    const series = [{ name: field, label: title, values: data.weeks.map((w) => w[field]), color: style.color, marker: style.marker }];
    const rows = [[t("week"), t("weekEnd"), title, t("target")], ...data.weeks.map((w) => [w.start, w.end, w[field], target])];
    return chartCard(id, title, rows, (width) => lineChart({ width, title, categories, series, max, format,
      target: { value: target, label: t("target") }, onClick: openWeek }),
    chartLegend([series[0], { name: "target", label: t("target"), color: OKABE_ITO.vermillion, dashed: true }]));
  };
  return [
    chart("chart-sla", t("weeklySla"), "slaCompliancePercent", data.targets.slaCompliancePercent,
      { color: OKABE_ITO.blue, marker: "circle" }, (v) => `${number(v, 0)}%`, 100),
    chart("chart-first-response", t("weeklyFirstResponse"), "medianFirstResponseHours", data.targets.firstResponseHours,
      { color: OKABE_ITO.green, marker: "square" }, (v) => number(v)),
    chart("chart-resolution", t("weeklyResolution"), "medianResolutionHours", data.targets.resolutionHours,
      { color: OKABE_ITO.purple, marker: "diamond" }, (v) => number(v)),
  ];
}

function refundCharts(data) {
  const currencies = [...new Set(data.refundsPerDay.map((r) => r.currency))].sort();
  const categories = data.days.map((day) => ({ key: day, label: dayLabel(day), title: dayLabel(day, true) }));
  return currencies.map((currency) => {
    const series = data.refundsPerDay.filter((r) => r.currency === currency).map((r) => Object.assign({ name: r.method,
      label: methodLabel(r.method), values: r.amounts.map(Number), raw: r.amounts, counts: r.counts }, METHOD_STYLE[r.method] || { color: OKABE_ITO.purple, pattern: "cross" }));
    const title = t("refundsPerDay", { currency });
    const rows = [[t("day"), ...series.flatMap((s) => [s.label, `${s.label} (${t("count")})`])],
      ...data.days.map((day, i) => [day, ...series.flatMap((s) => [Number(s.raw[i]), s.counts[i]])])];
    return chartCard(`chart-refunds-${currency}`, title, rows, (width) => barChart({ width, title, categories, series,
      format: (v) => number(v, 2),
      onClick: (s, day) => openQueueWith(queueFor({ refunded: { gte: day.key, lte: day.key }, refundMethod: s.name, created: undefined })) }),
    chartLegend(series));
  });
}

function ratingsChart(data) {
  const categories = data.ratings.map((r) => ({ key: String(r.rating), label: `${r.rating} ★`, title: `${t("rating")}: ${r.rating}` }));
  const series = [{ name: "count", label: t("count"), values: data.ratings.map((r) => r.count), color: OKABE_ITO.sky, pattern: "solid" }];
  const rows = [[t("rating"), t("count")], ...data.ratings.map((r) => [String(r.rating), r.count])];
  return chartCard("chart-ratings", t("ratingDistribution"), rows, (width) => barChart({ width, height: 180, title: t("ratingDistribution"),
    categories, series, integer: true, format: (v) => number(v, 0),
    onClick: (s, category) => openQueueWith(queueFor({ rating: [Number(category.key)] })) }));
}

// --- the queue's extra filters (from a chart) as removable chips ---
function filterChipText(key, value) {
  const range = (r) => (r.gte === r.lte ? dayLabel(r.gte, true) : `${dayLabel(r.gte, true)} – ${dayLabel(r.lte, true)}`);
  const shown = {
    created: () => range(value), refunded: () => range(value),
    type: () => value.map((x) => t(x)).join(", "), reason: () => value.map((x) => label("reason_", x)).join(", "),
    rating: () => value.join(", "), refundMethod: () => [].concat(value).map(methodLabel).join(", "),
    product: () => (desk.extraNames && desk.extraNames.product) || value, slaMet: () => (value ? t("yes") : t("no")),
  }[key];
  return `${t(`filter_${key}`)}: ${shown ? shown() : value}`;
}

function filterChips() {
  const extra = desk.extra || {};
  const keys = Object.keys(extra).filter((k) => extra[k] !== undefined && extra[k] !== null);
  if (!keys.length) return null;
  return el("p", { id: "active-filters", class: "chips" }, `${t("activeFilters")}: `, keys.map((key) =>
    el("span", { class: "chip", "data-filter": key }, filterChipText(key, extra[key]),
      el("button", { type: "button", class: "chip-remove", "aria-label": `${t("removeFilter")}: ${filterChipText(key, extra[key])}`,
        onclick: () => {
          const rest = Object.assign({}, extra);
          delete rest[key];
          if (Object.keys(rest).length) openQueueWith(rest, desk.extraNames);
          else { desk.extra = null; history.replaceState(null, "", location.pathname); render(); }
        } }, "×"))));
}
