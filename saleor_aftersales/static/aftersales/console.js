// The after-sales desk: sign in with a Saleor staff account, work the queue, and
// take every step of a claim.
"use strict";

// availableActions: the desk's steps the server allows on this claim now; the
// page offers exactly those and never works them out from the status.
const FULL_CLAIM = `
  id number type status resolution rejectReason createdAt userEmail customerNote availableActions
  slaResponseDueAt slaResolutionDueAt isOverdue returnless underWarranty
  order { id number }
  assignee { email }
  customerHistory { claimCount unitsBought unitsReturned returnRatePercent isSerialReturner
                    refunded { amount currency } }
  lines { id quantity quantityApproved quantityReceived quantityRefunded quantityMissing
          reason comment serialNumber policyException unitPrice { amount currency }
          orderLine { productName variantName } replacementVariant { name } }
  events { type date message actorType toStatus }
  refunds { status method amount { amount currency } credit { amount currency } giftCardCode error }
  photos { id url thumbnailUrl }
  slipA4: returnSlipUrl(paper: A4) slipLetter: returnSlipUrl(paper: LETTER)
  quote { diagnosis underWarranty accepted total { amount currency } }
`;
const QUEUE = `query Queue($filter: AftersalesRequestFilterInput, $sort: AftersalesRequestSortingInput) {
  aftersalesRequests(first: 50, filter: $filter, sortBy: $sort) {
    totalCount
    edges { node { id number type status userEmail createdAt slaResolutionDueAt isOverdue
                   assignee { email } } }
  }
}`;
const STATUSES = ["REQUESTED", "NEEDS_INFO", "APPEALED", "APPROVED", "RECEIVED", "QUOTED",
  "IN_REPAIR", "RESOLVED", "REJECTED", "CANCELLED", "CLOSED"];

const desk = {
  token: sessionStorage.getItem("aftersales-staff-token"),
  me: null,
  filter: { status: "", type: "", overdue: false, search: "" },
  sort: "CREATED_AT:DESC",
  // The open claim lives in the address, so a reload or a shared link keeps it.
  claimId: decodeURIComponent((location.hash.match(/^#claim=(.+)$/) || [])[1] || "") || null,
  // The analytics view (analytics.js) also lives in the address, and so do the
  // queue's filters a chart's bar opened it with.
  view: location.hash.startsWith("#analytics") ? "analytics" : "queue",
  extra: queueFilterFromAddress("filter"),
  extraNames: queueFilterFromAddress("names") || {},
  notice: null,
};

// The queue's filter from a chart (``filter``) and the names its chips show
// (``names``: a product's), as the address keeps them.
function queueFilterFromAddress(part) {
  if (!location.hash.startsWith("#queue?")) return null;
  const value = new URLSearchParams(location.hash.slice("#queue?".length)).get(part);
  try { return value ? JSON.parse(value) : null; } catch (e) { return null; }
}

function queueAddress() {
  const query = new URLSearchParams({ filter: JSON.stringify(desk.extra) });
  if (Object.keys(desk.extraNames || {}).length) query.set("names", JSON.stringify(desk.extraNames));
  return `#queue?${query}`;
}

function openClaim(id) {
  desk.claimId = id;
  desk.view = "queue";
  desk.notice = null;
  const queue = desk.extra ? queueAddress() : location.pathname;
  history.replaceState(null, "", id ? `#claim=${encodeURIComponent(id)}` : queue);
  render();
}

const call = (query, variables) => gql(query, variables, { token: desk.token });

function render() {
  document.documentElement.lang = LANGUAGE;
  const app = document.getElementById("app");
  const main = el("main", { id: "view" });
  app.replaceChildren(el("header", {}, el("h1", {}, t("console")), el("nav", {},
    desk.token ? el("button", { type: "button", class: "link", id: "nav-queue", onclick: () => openClaim(null) }, t("queue")) : null,
    desk.token ? el("button", { type: "button", class: "link", id: "nav-analytics", onclick: openAnalytics }, t("analytics")) : null,
    desk.token ? el("button", { type: "button", class: "link", id: "sign-out", onclick: signOut }, t("signOut")) : null,
    languageSwitcher(render))), main);
  if (desk.notice) put(main, el("p", { class: "notice", role: "status" }, desk.notice));
  if (!desk.token) signInView(main);
  else if (desk.claimId) claimView(main);
  else if (desk.view === "analytics") analyticsView(main);
  else queueView(main);
}

function signOut() {
  desk.token = null;
  sessionStorage.removeItem("aftersales-staff-token");
  render();
}

function signInView(main) {
  const errors = el("div", { id: "signin-errors" });
  put(main, signInForm(t("signIn"), errors, async (result) => {
    if (!result.user.isStaff) throw new ApiError([{ code: "NOT_STAFF", message: t("notStaff") }]);
    // On the Saleor 3.23 app, staff act with the token Saleor issues them for the
    // app (as the Dashboard hands it to the app's pages).
    const token = APP_ID ? await appToken(result.token) : result.token;
    signedIn(token);
  }), errors);
}

function signedIn(token) {
  desk.token = token;
  sessionStorage.setItem("aftersales-staff-token", desk.token);
  render();
}

async function appToken(staffToken) {
  const data = await saleorGql("query($id: ID!) { app(id: $id) { accessToken } }",
    { id: APP_ID }, { token: staffToken });
  if (!data.app || !data.app.accessToken) {
    throw new ApiError([{ code: "PERMISSION_DENIED", message: t("notStaff") }]);
  }
  return data.app.accessToken;
}

// Inside Saleor's Dashboard (an app page), the Dashboard hands the token over.
window.addEventListener("message", (event) => {
  const message = event.data || {};
  if (APP_ID && event.source === window.parent && message.type === "handshake"
      && message.payload && typeof message.payload.token === "string") {
    signedIn(message.payload.token);
  }
});

async function queueView(main) {
  const f = desk.filter;
  const rerun = () => render();
  put(main, el("form", { id: "filters", class: "filters", onsubmit: (e) => { e.preventDefault(); rerun(); } },
    el("label", {}, t("status"), el("select", { id: "filter-status", onchange: (e) => { f.status = e.target.value; rerun(); } },
      el("option", { value: "" }, t("all")), STATUSES.map((s) => el("option", { value: s, selected: f.status === s }, label("status_", s))))),
    el("label", {}, t("type"), el("select", { id: "filter-type", onchange: (e) => { f.type = e.target.value; rerun(); } },
      el("option", { value: "" }, t("all")), ["RETURN", "EXCHANGE", "REPAIR"].map((s) => el("option", { value: s, selected: f.type === s }, t(s))))),
    el("label", { class: "inline" }, el("input", { type: "checkbox", id: "filter-overdue", checked: f.overdue,
      onchange: (e) => { f.overdue = e.target.checked; rerun(); } }), t("overdue")),
    el("label", {}, t("search"), el("input", { id: "filter-search", value: f.search, onchange: (e) => { f.search = e.target.value; } })),
    el("label", {}, t("sort"), el("select", { id: "sort", onchange: (e) => { desk.sort = e.target.value; rerun(); } },
      el("option", { value: "CREATED_AT:DESC", selected: desk.sort === "CREATED_AT:DESC" }, t("newest")),
      el("option", { value: "RESOLUTION_DUE_AT:ASC", selected: desk.sort === "RESOLUTION_DUE_AT:ASC" }, t("dueFirst")))),
    el("button", { type: "submit" }, t("search"))));
  put(main, filterChips());
  const filter = Object.assign({}, desk.extra || {});
  if (f.status) filter.status = [f.status];
  if (f.type) filter.type = [f.type];
  if (f.overdue) filter.overdue = true;
  if (f.search) filter.search = f.search;
  const [field, direction] = desk.sort.split(":");
  const holder = el("div", { id: "queue" }, t("loading"));
  put(main, holder);
  try {
    const data = await call(QUEUE, { filter, sort: { field, direction } });
    const rows = data.aftersalesRequests.edges.map((e) => e.node);
    const total = data.aftersalesRequests.totalCount;
    holder.replaceChildren(el("p", { class: "meta", id: "queue-count", "data-count": total }, t("claimsFound", { count: total })), rows.length ? el("table", {}, el("thead", {}, el("tr", {},
      [t("claim"), t("type"), t("status"), t("customer"), t("created"), t("due"), t("assignee")].map((h) => el("th", {}, h)))),
    el("tbody", {}, rows.map((c) => el("tr", { class: c.isOverdue ? "overdue" : "", "data-number": c.number },
      el("td", {}, el("button", { type: "button", class: "link open-claim", onclick: () => openClaim(c.id) }, c.number)),
      el("td", {}, t(c.type)), el("td", { class: "status" }, label("status_", c.status)), el("td", {}, bdi(c.userEmail)),
      el("td", {}, date(c.createdAt)), el("td", {}, date(c.slaResolutionDueAt), c.isOverdue ? el("span", { class: "badge" }, t("overdue")) : null),
      el("td", {}, bdi(c.assignee ? c.assignee.email : null)))))) : el("p", {}, t("noClaims")));
  } catch (e) {
    if (e.errors && e.errors[0].code === "PERMISSION_DENIED") { holder.replaceChildren(el("p", { class: "error" }, t("notStaff"))); return; }
    showErrors(holder, e);
  }
}

async function claimView(main) {
  let claim;
  try {
    claim = (await call(`query($id: ID!) { aftersalesRequest(id: $id) { ${FULL_CLAIM} } }`, { id: desk.claimId })).aftersalesRequest;
  } catch (e) { showErrors(main, e); return; }
  const errors = el("div", { id: "action-errors" });
  const act = (name, query, variables, onRefused) => async () => {
    try {
      payload(await call(query, Object.assign({ id: claim.id }, variables || {})), name);
      desk.notice = t("done");
      render();
    } catch (e) {
      if (onRefused) onRefused(e);
      showErrors(errors, e);
    }
  };
  const note = el("textarea", { id: "staff-note", maxlength: 5000 });
  const h = claim.customerHistory;
  put(main, 
    el("h2", {}, `${t("claim")} `, el("span", { id: "claim-number" }, claim.number), " · ", t(claim.type)),
    el("p", {}, `${t("status")}: `, el("strong", { id: "claim-status", "data-status": claim.status }, label("status_", claim.status)),
      claim.isOverdue ? el("span", { class: "badge" }, t("overdue")) : null),
    el("p", {}, `${t("order")} `, el("a", { href: `/dashboard/orders/${claim.order.id}`, id: "order-link" }, `#${claim.order.number}`),
      " · ", bdi(claim.userEmail), ` · ${t("due")}: ${date(claim.slaResolutionDueAt)} · ${t("assignee")}: `,
      claim.assignee ? bdi(claim.assignee.email) : "—"),
    slipLinks(claim),
    claim.customerNote ? el("blockquote", { id: "customer-note", dir: "auto" }, claim.customerNote) : null,
    h ? el("p", { id: "history", class: h.isSerialReturner ? "warning" : "" }, `${t("history")}: ${t("claimCount")} ${h.claimCount} · `,
      `${t("returnRate")} ${h.returnRatePercent === null ? "—" : h.returnRatePercent + "%"}`,
      h.isSerialReturner ? ` · ${t("serialReturner")}` : "") : null,
    linesTable(claim),
    claim.photos.length ? el("section", { class: "photos", id: "photos" }, claim.photos.map(photoLink)) : null,
    claim.refunds.length ? el("ul", { id: "refunds" }, claim.refunds.map((r) => el("li", { "data-status": r.status },
      `${r.status} · ${money(r.amount)}`, r.giftCardCode ? [" · ", bdi(r.giftCardCode)] : "", r.error ? [" · ", bdi(r.error)] : ""))) : null,
    actionsFor(claim, act, note, errors), errors,
    el("section", { id: "timeline" }, el("h3", {}, t("timeline")), el("ol", {}, claim.events.map((e) =>
      el("li", {}, el("time", {}, date(e.date)), ` ${e.type}`, e.message ? [" — ", bdi(e.message)] : "")))));
}

// The thumbnail, opening the whole (bounded) photo.
function photoLink(p) {
  return el("a", { href: p.url, target: "_blank", rel: "noopener" }, el("img", { src: p.thumbnailUrl || p.url, alt: "" }));
}

function linesTable(claim) {
  return el("table", { id: "lines" }, el("thead", {}, el("tr", {},
    [t("product"), t("reason"), t("quantity"), t("approved"), t("received"), t("refunded"), t("approve"), t("receive"), t("disposition")].map((x) => el("th", {}, x)))),
  el("tbody", {}, claim.lines.map((l) => el("tr", { "data-line": l.id },
    el("td", {}, bdi(l.orderLine.productName), " ", bdi(l.orderLine.variantName), l.replacementVariant ? [" → ", bdi(l.replacementVariant.name)] : "",
      l.policyException ? el("span", { class: "badge" }, l.policyException) : null,
      l.comment || l.serialNumber ? el("div", { class: "meta" }, bdi(l.comment), l.comment && l.serialNumber ? " · " : "",
        l.serialNumber ? [`${t("serialNumber")}: `, bdi(l.serialNumber)] : "") : null),
    el("td", {}, label("reason_", l.reason)), el("td", {}, l.quantity), el("td", {}, l.quantityApproved),
    el("td", {}, l.quantityReceived), el("td", {}, l.quantityRefunded),
    el("td", {}, el("input", { type: "number", class: "approve-qty", min: 0, max: l.quantity, value: l.quantity })),
    el("td", {}, el("input", { type: "number", class: "receive-qty", min: 0, max: l.quantityApproved, value: Math.max(0, l.quantityApproved - l.quantityReceived - l.quantityMissing) })),
    el("td", {}, el("select", { class: "disposition" }, ["RESTOCK", "DAMAGED", "MISSING"].map((d) => el("option", { value: d }, d))))))));
}

function perLine(selector, extra) {
  return [...document.querySelectorAll("#lines tbody tr")].map((row) =>
    Object.assign({ line: row.dataset.line, quantity: Number(row.querySelector(selector).value) }, extra ? extra(row) : {}));
}

function actionsFor(claim, act, note, errors) {
  const can = (action) => claim.availableActions.includes(action);
  const box = el("section", { class: "actions", id: "actions" }, el("label", {}, t("note"), note));
  const button = (id, text, handler) => el("button", { type: "button", id, onclick: (event) => whileBusy(event.currentTarget, handler) }, text);
  if (can("APPROVE")) {
    // Outside the policy only by an explicit, audited choice.
    const override = el("input", { type: "checkbox", id: "override-policy" });
    if (claim.lines.some((l) => l.policyException)) {
      box.append(el("label", { class: "inline" }, override, t("overridePolicy")));
    }
    box.append(button("approve", t("approve"), () => act("aftersalesRequestApprove",
      `mutation($id: ID!, $lines: [AftersalesApproveLineInput!], $note: String, $override: Boolean) {
        aftersalesRequestApprove(id: $id, lines: $lines, note: $note, overridePolicy: $override) { errors { code message } } }`,
      { lines: perLine(".approve-qty"), note: note.value, override: override.checked })()));
  }
  if (can("REJECT")) {
    const reason = el("select", { id: "reject-reason" }, ["OUTSIDE_WINDOW", "NOT_ELIGIBLE", "FINAL_SALE", "NO_DEFECT_FOUND", "OTHER"].map((r) => el("option", { value: r }, r)));
    box.append(reason, button("reject", t("reject"), () => act("aftersalesRequestReject",
      `mutation($id: ID!, $reason: AftersalesRejectReason!, $note: String) { aftersalesRequestReject(id: $id, reason: $reason, note: $note) { errors { code message } } }`,
      { reason: reason.value, note: note.value })()));
  }
  if (can("REQUEST_INFO")) {
    box.append(button("request-info", t("requestInfo"), () => act("aftersalesRequestRequestInfo",
      `mutation($id: ID!, $note: String!) { aftersalesRequestRequestInfo(id: $id, note: $note) { errors { code message } } }`, { note: note.value })()));
  }
  if (can("RECEIVE")) {
    box.append(button("receive", t("receive"), () => act("aftersalesRequestReceive",
      `mutation($id: ID!, $lines: [AftersalesReceiveLineInput!]) { aftersalesRequestReceive(id: $id, lines: $lines) { errors { code message } } }`,
      { lines: perLine(".receive-qty", (row) => ({ disposition: row.querySelector(".disposition").value })).filter((l) => l.quantity > 0) })()));
  }
  if (can("REFUND")) box.append(refundBox(claim, act));
  if (can("FULFILL_EXCHANGE")) {
    box.append(button("fulfill-exchange", t("fulfillExchange"), act("exchangeRequestFulfill",
      `mutation($id: ID!) { exchangeRequestFulfill(id: $id) { errors { code message } } }`)));
  }
  if (can("CREATE_QUOTE")) box.append(quoteBox(act));
  if (can("UPDATE_REPAIR")) {
    const status = el("select", { id: "repair-status" }, ["IN_REPAIR", "RESOLVED"].map((x) => el("option", { value: x }, label("status_", x))));
    const handBack = el("select", { id: "hand-back" }, ["PICKUP", "SHIPMENT"].map((x) => el("option", { value: x }, x)));
    const repairNote = el("textarea", { id: "repair-note", maxlength: 5000, required: true });
    box.append(el("label", {}, t("repairNote"), repairNote), status, handBack, button("repair-update", t("repairStatus"), () => {
      if (!repairNote.value.trim()) {
        showErrors(errors, new ApiError([{ code: "REPAIR_NOTE_REQUIRED", message: TEXTS.en.errors.REPAIR_NOTE_REQUIRED }]));
        repairNote.focus();
        return undefined;
      }
      return act("repairStatusUpdate",
        `mutation($id: ID!, $status: AftersalesRequestStatus!, $note: String!, $handBack: AftersalesHandBackMethod) {
          repairStatusUpdate(id: $id, status: $status, note: $note, handBack: $handBack) { errors { code message } } }`,
        { status: status.value, note: repairNote.value, handBack: status.value === "RESOLVED" ? handBack.value : null })();
    }));
  }
  if (can("CLOSE")) {
    box.append(button("close", t("close"), () => act("aftersalesRequestClose",
      `mutation($id: ID!, $note: String) { aftersalesRequestClose(id: $id, note: $note) { errors { code message } } }`, { note: note.value })()));
  }
  if (can("ADD_NOTE")) {
    box.append(button("add-note", t("addNote"), () => act("aftersalesNoteAdd",
      `mutation($id: ID!, $message: String!) { aftersalesNoteAdd(id: $id, message: $message) { errors { code message } } }`, { message: note.value })()));
  }
  if (can("ASSIGN")) {
    box.append(button("assign-me", t("assignToMe"), async () => {
      const me = (await saleorGql("{ me { id } }", {}, { token: desk.token })).me;
      await act("aftersalesRequestAssign", `mutation($id: ID!, $user: ID) { aftersalesRequestAssign(id: $id, staffUser: $user) { errors { code message } } }`, { user: me.id })();
    }));
  }
  if (can("ASSIGN") && claim.assignee) {
    box.append(button("unassign", t("unassign"), act("aftersalesRequestAssign",
      `mutation($id: ID!) { aftersalesRequestAssign(id: $id, staffUser: null) { errors { code message } } }`)));
  }
  return box;
}

function refundBox(claim, act) {
  const shipping = el("input", { type: "checkbox", id: "refund-shipping" });
  const fee = el("input", { type: "number", id: "refund-fee", min: 0, max: 100, step: "0.01", placeholder: "—" });
  const amount = el("input", { type: "number", id: "refund-amount", min: 0, step: "0.01" });
  const method = el("select", { id: "refund-method" }, el("option", { value: "REFUND" }, t("REFUNDM")), el("option", { value: "STORE_CREDIT" }, t("STORE_CREDIT")));
  const shown = el("p", { id: "refund-preview" });
  const variables = () => ({ shipping: shipping.checked || null, fee: fee.value === "" ? null : fee.value });
  async function preview() {
    try {
      const data = await call(`query($id: ID!, $shipping: Boolean, $fee: Decimal) {
        aftersalesRefundPreview(id: $id, includeShipping: $shipping, restockingFee: $fee) {
          goods { amount currency } restockingFee { amount currency } shipping { amount currency }
          amount { amount currency } maximum { amount currency } errors { code message } } }`, Object.assign({ id: claim.id }, variables()));
      const p = payload(data, "aftersalesRefundPreview");
      amount.value = Number(p.amount.amount).toFixed(2);
      shown.replaceChildren(`${t("goods")} ${money(p.goods)} − ${t("fee")} ${money(p.restockingFee)} + ${t("shipping")} ${money(p.shipping)} = `,
        el("strong", { id: "preview-amount" }, money(p.amount)), ` (${t("maximum")} ${money(p.maximum)})`);
    } catch (e) { showErrors(shown, e); }
  }
  // One key for this box: a double click or a retry files one refund. The box is
  // shown anew (with a new key) after a refund; a refund the gateway refused is
  // settled, so trying again is a new refund.
  let key = `console-${newIdempotencyKey()}`;
  const pay = () => act("aftersalesRequestRefund",
    `mutation($id: ID!, $amount: Decimal, $shipping: Boolean, $fee: Decimal, $method: AftersalesRefundMethod, $key: String) {
      aftersalesRequestRefund(id: $id, amount: $amount, includeShipping: $shipping, restockingFee: $fee, method: $method, idempotencyKey: $key) {
        errors { code message } } }`,
    Object.assign(variables(), { amount: amount.value || null, method: method.value, key }),
    (e) => { if (e.errors && e.errors.some((x) => x.code === "PAYMENT_FAILED")) key = `console-${newIdempotencyKey()}`; })();
  shipping.addEventListener("change", preview);
  fee.addEventListener("change", preview);
  setTimeout(preview, 0);
  return el("fieldset", { id: "refund-box" }, el("legend", {}, t("refund")),
    el("label", { class: "inline" }, shipping, t("includeShipping")), el("label", {}, t("restockingFee"), fee),
    shown, el("label", {}, t("amount"), amount), el("label", {}, t("method"), method),
    el("button", { type: "button", id: "refund", onclick: (event) => whileBusy(event.currentTarget, pay) }, t("refund")));
}

function quoteBox(act) {
  const rows = el("div", { id: "quote-lines" });
  const addRow = () => rows.append(el("div", { class: "quote-line" },
    el("select", { class: "kind" }, ["PART", "LABOR"].map((k) => el("option", { value: k }, k))),
    el("input", { class: "description", placeholder: t("description") }),
    el("input", { class: "quantity", type: "number", min: 1, value: 1 }),
    el("input", { class: "price", type: "number", min: 0, step: "0.01", placeholder: t("unitPrice") })));
  addRow();
  const warranty = el("input", { type: "checkbox", id: "under-warranty" });
  const diagnosis = el("input", { id: "diagnosis" });
  return el("fieldset", { id: "quote-box" }, el("legend", {}, t("createQuote")), rows,
    el("button", { type: "button", onclick: addRow }, t("addLine")),
    el("label", { class: "inline" }, warranty, t("underWarranty")), el("label", {}, t("diagnosis"), diagnosis),
    el("button", { type: "button", id: "create-quote", onclick: () => act("repairQuoteCreate",
      `mutation($id: ID!, $lines: [RepairQuoteLineInput!], $underWarranty: Boolean, $diagnosis: String) {
        repairQuoteCreate(id: $id, lines: $lines, underWarranty: $underWarranty, diagnosis: $diagnosis) { errors { code message } } }`,
      { underWarranty: warranty.checked, diagnosis: diagnosis.value,
        lines: warranty.checked ? [] : [...rows.querySelectorAll(".quote-line")].map((r) => ({ kind: r.querySelector(".kind").value,
          description: r.querySelector(".description").value, quantity: Number(r.querySelector(".quantity").value),
          unitPrice: r.querySelector(".price").value || "0" })) })() }, t("createQuote")));
}

document.addEventListener("DOMContentLoaded", render);
