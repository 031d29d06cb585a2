// The shoppers' portal: find an order (guest or signed in), claim lines of it,
// follow a claim and answer the desk, check a warranty card.
"use strict";

// availableActions: the steps the server lets this customer take now; the page
// offers exactly those and never works them out from the status.
const CLAIM_FIELDS = `
  id number type status resolution availableActions createdAt customerNote rating
  lines { id quantity quantityApproved quantityReceived quantityRefunded reason comment
          orderLine { productName variantName } }
  events { type date message toStatus actorType }
  refunds { status amount { amount currency } method credit { amount currency } giftCardCode }
  photos { id url thumbnailUrl }
  slipA4: returnSlipUrl(paper: A4) slipLetter: returnSlipUrl(paper: LETTER)
  quote { diagnosis underWarranty accepted total { amount currency }
          lines { kind description quantity unitPrice { amount currency } } }
`;

const ELIGIBILITY = `query Eligibility($order: ID, $token: UUID) {
  aftersalesEligibility(order: $order, orderToken: $token) {
    orderNumber
    isReturnable
    lines {
      orderLine { id productName variantName quantity
                  variant { id product { variants { id name } } } }
      quantityFulfilled returnableQuantity exchangeableQuantity returnDeadline
      exchangeDeadline finalSale ineligibleReason
    }
    requests { ${CLAIM_FIELDS} }
  }
}`;

const state = {
  token: sessionStorage.getItem("aftersales-customer-token"),
  orderToken: sessionStorage.getItem("aftersales-order-token") || null,
  orderId: sessionStorage.getItem("aftersales-order-id") || null,
  view: "find",
  claimId: null,
  notice: null,
};

const root = () => document.getElementById("app");
const REASONS = ["DEFECTIVE", "DAMAGED_IN_TRANSIT", "WRONG_ITEM", "NOT_AS_DESCRIBED",
  "SIZE_OR_FIT", "CHANGED_MIND", "MISSING_PARTS", "OTHER"];

function access() {
  return state.orderToken ? { token: state.orderToken } : { order: state.orderId };
}

function call(query, variables, extra) {
  return gql(query, variables, Object.assign({ token: state.token }, extra || {}));
}

function go(view, claimId) {
  state.view = view;
  state.claimId = claimId || null;
  render();
}

function header() {
  return el("header", {},
    el("h1", {}, t("portal")),
    el("nav", {},
      el("button", { type: "button", class: "link", id: "nav-find", onclick: () => go("find") }, t("findOrder")),
      el("button", { type: "button", class: "link", id: "nav-warranty", onclick: () => go("warranty") }, t("warrantyCheck")),
      state.token ? el("button", { type: "button", class: "link", onclick: signOut }, t("signOut")) : null,
      languageSwitcher(render)));
}

function signOut() {
  state.token = null;
  sessionStorage.removeItem("aftersales-customer-token");
  go("find");
}

function render() {
  document.documentElement.lang = LANGUAGE;
  const main = el("main", { id: "view" });
  root().replaceChildren(header(), main);
  if (state.notice) put(main, el("p", { class: "notice", role: "status" }, state.notice));
  ({ find: findView, order: orderView, claim: claimView, warranty: warrantyView })[state.view](main);
}

// Finding the order -----------------------------------------------------------

function findView(main) {
  const errors = el("div", { id: "find-errors" });
  const guest = el("form", {
    id: "guest-form",
    onsubmit: async (event) => {
      event.preventDefault();
      const form = new FormData(event.target);
      try {
        // The same answer whatever the order: the link goes to its own e-mail.
        payload(await gql(`mutation($n: String!, $e: String!, $l: String) {
          aftersalesOrderLinkSend(number: $n, email: $e, language: $l) { errors { code message } } }`,
        { n: form.get("number"), e: form.get("email"), l: LANGUAGE }), "aftersalesOrderLinkSend");
        errors.replaceChildren(el("p", { class: "notice", role: "status", id: "link-sent" }, t("linkSent")));
      } catch (e) { showErrors(errors, e); }
    },
  },
  el("h2", {}, t("findOrder")),
  el("label", {}, t("orderNumber"), el("input", { name: "number", required: true, inputmode: "numeric" })),
  el("label", {}, t("email"), el("input", { name: "email", type: "email", required: true })),
  el("button", { type: "submit", id: "find" }, t("find")));

  const signIn = signInForm(t("orSignIn"), errors, (result) => {
    state.token = result.token;
    sessionStorage.setItem("aftersales-customer-token", state.token);
    render();
  });

  put(main, el("section", { class: "cards" }, guest, state.token ? ordersList() : signIn), errors);
}

function ordersList() {
  const list = el("section", { id: "orders" }, el("h2", {}, t("yourOrders")), el("p", {}, t("loading")));
  saleorGql(`{ me { orders(first: 20) { edges { node { id number created } } } } }`, {},
    { token: state.token }).then((data) => {
    const orders = data.me ? data.me.orders.edges.map((e) => e.node) : [];
    list.replaceChildren(el("h2", {}, t("yourOrders")), el("ul", {}, orders.map((o) =>
      el("li", {}, el("button", { type: "button", class: "link", onclick: () => openOrder({ order: o.id }) },
        `${t("order")} #${o.number}`), " ", date(o.created)))));
  }).catch((e) => showErrors(list, e));
  return list;
}

function openOrder(found) {
  state.orderToken = found.token || null;
  state.orderId = found.order || null;
  sessionStorage.setItem("aftersales-order-token", state.orderToken || "");
  sessionStorage.setItem("aftersales-order-id", state.orderId || "");
  state.notice = null;
  go("order");
}

// The order: what can be claimed, the claim form, earlier claims ---------------

async function orderView(main) {
  put(main, el("p", {}, t("loading")));
  let eligibility;
  try {
    eligibility = (await call(ELIGIBILITY, access())).aftersalesEligibility;
  } catch (e) { showErrors(main, e); return; }
  main.replaceChildren();
  if (state.notice) put(main, el("p", { class: "notice", role: "status" }, state.notice));
  put(main, el("h2", {}, `${t("order")} #${eligibility.orderNumber}`));
  put(main, claimForm(eligibility));
  if (eligibility.requests.length) {
    put(main, el("h2", {}, t("claims")), el("ul", { id: "claims" }, eligibility.requests.map((c) =>
      el("li", {}, el("button", { type: "button", class: "link", onclick: () => go("claim", c.id) },
        `${c.number}`), " ", label("status_", c.status), " · ", t(c.type)))));
  }
}

function claimForm(eligibility) {
  const errors = el("div", { id: "claim-errors" });
  const anyExchange = eligibility.lines.some((l) => l.exchangeableQuantity > 0);
  const typeSelect = el("select", { name: "type", id: "claim-type", onchange: () => refresh() },
    ["RETURN", "EXCHANGE", "REPAIR"].map((type) => el("option", { value: type }, t(type))));
  const rows = el("div", { class: "lines" });
  // One key for this form: a double click, or a retry after the shop couldn't be
  // reached, files one claim. The form is shown anew (new key) after a claim.
  const key = newIdempotencyKey();
  const submitButton = el("button", { type: "submit", id: "submit" }, t("submit"));
  const form = el("form", { id: "claim-form", onsubmit: (event) => submit(event) },
    el("label", {}, t("claimType"), typeSelect), rows,
    el("label", {}, t("photos"), el("input", { type: "file", name: "photos", id: "photos",
      accept: "image/jpeg,image/png,image/webp", multiple: true })),
    el("label", {}, t("note"), el("textarea", { name: "note", maxlength: 5000 })),
    errors, submitButton);

  function maxFor(line, type) {
    if (type === "RETURN") return line.returnableQuantity;
    if (type === "EXCHANGE") return line.exchangeableQuantity;
    return line.quantityFulfilled;
  }

  function refresh() {
    const type = typeSelect.value;
    const open = eligibility.lines.filter((l) => maxFor(l, type) > 0);
    rows.replaceChildren(...(open.length ? open.map((line, index) => lineRow(line, index, type))
      : [el("p", { class: "empty", id: "nothing-returnable" }, t("nothingReturnable"))]));
  }

  function lineRow(line, index, type) {
    const ol = line.orderLine;
    const max = maxFor(line, type);
    const deadline = type === "EXCHANGE" ? line.exchangeDeadline : line.returnDeadline;
    const variants = ol.variant ? ol.variant.product.variants : [];
    return el("fieldset", { class: "line", "data-line": ol.id },
      el("legend", {}, bdi(ol.productName), " ", bdi(ol.variantName)),
      el("p", { class: "meta" }, `${t("delivered")}: ${line.quantityFulfilled}`,
        type !== "REPAIR" ? ` · ${type === "EXCHANGE" ? t("exchangeBy") : t("returnBy")}: ${date(deadline)}` : "",
        line.finalSale ? ` · ${t("finalSale")}` : ""),
      el("label", {}, t("quantity"), el("input", { type: "number", min: 0, max, value: 0, name: `qty-${index}`, class: "qty" })),
      el("label", {}, t("reason"), el("select", { name: `reason-${index}`, class: "reason" },
        REASONS.map((r) => el("option", { value: r }, label("reason_", r))))),
      el("label", {}, t("comment"), el("input", { name: `comment-${index}`, class: "comment", maxlength: 5000 })),
      type === "EXCHANGE" ? el("label", {}, t("replacement"), el("select", { class: "replacement" },
        variants.map((v) => el("option", { value: v.id, selected: ol.variant && v.id === ol.variant.id, dir: "auto" }, v.name)))) : null,
      type === "REPAIR" ? el("label", {}, t("serialNumber"), el("input", { class: "serial", maxlength: 64 })) : null);
  }

  async function submit(event) {
    event.preventDefault();
    await whileBusy(submitButton, send);
  }

  async function send() {
    const type = typeSelect.value;
    const lines = [...rows.querySelectorAll("fieldset.line")].map((row) => {
      const item = {
        orderLine: row.dataset.line,
        quantity: Number(row.querySelector(".qty").value),
        reason: row.querySelector(".reason").value,
        comment: row.querySelector(".comment").value,
      };
      const replacement = row.querySelector(".replacement");
      if (replacement) item.replacementVariant = replacement.value;
      const serial = row.querySelector(".serial");
      if (serial) item.serialNumber = serial.value;
      return item;
    }).filter((item) => item.quantity > 0);
    if (!lines.length) { errors.replaceChildren(el("p", { class: "error" }, t("chooseLines"))); return; }
    const files = [...form.querySelector("#photos").files];
    const tooMany = files.length > 5;
    const bad = files.find((f) => !["image/jpeg", "image/png", "image/webp"].includes(f.type) || f.size > 5 * 1024 * 1024);
    if (tooMany || bad) {
      const code = tooMany ? "TOO_MANY_FILES" : (bad.size > 5 * 1024 * 1024 ? "FILE_TOO_LARGE" : "INVALID_FILE_TYPE");
      showErrors(errors, new ApiError([{ code, message: code }]));
      return;
    }
    const mutation = { RETURN: "returnRequestCreate", EXCHANGE: "exchangeRequestCreate", REPAIR: "repairRequestCreate" }[type];
    // The shop writes to the customer in the language they file in.
    const input = Object.assign({ lines, customerNote: form.elements.note.value,
      idempotencyKey: key, language: LANGUAGE },
    state.orderToken ? { orderToken: state.orderToken } : { order: state.orderId });
    try {
      const data = await call(`mutation($input: AftersalesRequestCreateInput!) {
        ${mutation}(input: $input) { aftersalesRequest { id number } errors { field code message } } }`, { input });
      const claim = payload(data, mutation).aftersalesRequest;
      for (const file of files) {
        const uploaded = await call(`mutation($id: ID!, $file: Upload!, $token: UUID) {
          aftersalesPhotoUpload(id: $id, file: $file, orderToken: $token) { errors { code message } } }`,
        { id: claim.id, file: null, token: state.orderToken }, { files: { file } });
        payload(uploaded, "aftersalesPhotoUpload");
      }
      state.notice = t("submitted", { number: claim.number });
      go("claim", claim.id);
    } catch (e) { showErrors(errors, e); }
  }

  refresh();
  if (!eligibility.isReturnable && !anyExchange) typeSelect.value = "RETURN";
  return el("section", {}, form);
}

// A claim: its state, timeline and what the customer can do now --------------

async function claimView(main) {
  let claim;
  try {
    claim = (await call(`query($id: ID!, $token: UUID) { aftersalesRequest(id: $id, orderToken: $token) { ${CLAIM_FIELDS} } }`,
      { id: state.claimId, token: state.orderToken })).aftersalesRequest;
  } catch (e) { showErrors(main, e); return; }
  const errors = el("div", { id: "action-errors" });
  const act = (name, query, variables) => async () => {
    try {
      payload(await call(query, Object.assign({ id: claim.id, token: state.orderToken }, variables)), name);
      state.notice = t("done");
      render();
    } catch (e) { showErrors(errors, e); }
  };
  const noteInput = el("textarea", { id: "customer-note", maxlength: 5000 });
  const can = (action) => claim.availableActions.includes(action);
  const actions = [];
  if (can("CANCEL")) {
    actions.push(el("button", { type: "button", id: "cancel", onclick: act("aftersalesRequestCancel",
      `mutation($id: ID!, $token: UUID) { aftersalesRequestCancel(id: $id, orderToken: $token) { errors { code message } } }`) }, t("cancel")));
  }
  if (can("PROVIDE_INFO")) {
    actions.push(noteInput, el("button", { type: "button", id: "provide-info", onclick: () => act("aftersalesRequestProvideInfo",
      `mutation($id: ID!, $token: UUID, $note: String!) { aftersalesRequestProvideInfo(id: $id, note: $note, orderToken: $token) { errors { code message } } }`,
      { note: noteInput.value })() }, t("provideInfo")));
  }
  if (can("APPEAL")) {
    actions.push(noteInput, el("button", { type: "button", id: "appeal", onclick: () => act("aftersalesRequestAppeal",
      `mutation($id: ID!, $token: UUID, $note: String!) { aftersalesRequestAppeal(id: $id, note: $note, orderToken: $token) { errors { code message } } }`,
      { note: noteInput.value })() }, t("appeal")));
  }
  const respond = (accept) => act("repairQuoteRespond",
    `mutation($id: ID!, $token: UUID, $accept: Boolean!) { repairQuoteRespond(id: $id, accept: $accept, orderToken: $token) { errors { code message } } }`,
    { accept });
  if (can("ACCEPT_QUOTE")) actions.push(el("button", { type: "button", id: "accept-quote", onclick: respond(true) }, t("acceptQuote")));
  if (can("DECLINE_QUOTE")) actions.push(el("button", { type: "button", id: "decline-quote", onclick: respond(false) }, t("declineQuote")));
  if (can("RATE")) {
    const stars = el("input", { type: "number", min: 1, max: 5, value: 5, id: "rating" });
    actions.push(el("label", {}, t("rating"), stars), el("button", { type: "button", id: "rate", onclick: () => act("aftersalesRequestRate",
      `mutation($id: ID!, $token: UUID, $rating: Int!) { aftersalesRequestRate(id: $id, rating: $rating, orderToken: $token) { errors { code message } } }`,
      { rating: Number(stars.value) })() }, t("rate")));
  }
  put(main, 
    el("p", {}, el("button", { type: "button", class: "link", id: "back", onclick: () => go("order") }, t("back"))),
    el("h2", {}, `${t("claim")} `, el("span", { id: "claim-number" }, claim.number)),
    el("p", {}, `${t("status")}: `, el("strong", { id: "claim-status", "data-status": claim.status }, label("status_", claim.status)), ` · ${t(claim.type)}`),
    slipLinks(claim),
    el("table", {}, el("thead", {}, el("tr", {}, [t("product"), t("quantity"), t("approved"), t("received"), t("refunded"), t("reason")].map((h) => el("th", {}, h)))),
      el("tbody", {}, claim.lines.map((l) => el("tr", {}, el("td", {}, bdi(l.orderLine.productName), " ", bdi(l.orderLine.variantName)),
        el("td", {}, l.quantity), el("td", {}, l.quantityApproved), el("td", {}, l.quantityReceived), el("td", {}, l.quantityRefunded),
        el("td", {}, label("reason_", l.reason)))))),
    claim.refunds.length ? el("section", { id: "refunds" }, el("h3", {}, t("refunds")), el("ul", {}, claim.refunds.map((r) =>
      el("li", { "data-status": r.status }, money(r.amount), " · ", r.method === "STORE_CREDIT" ? t("STORE_CREDIT") : t("REFUNDM"),
        r.giftCardCode ? [` · ${t("giftCard")}: `, bdi(r.giftCardCode), ` (${money(r.credit)})`] : "")))) : null,
    claim.quote ? el("section", { id: "quote" }, el("h3", {}, t("quote")), el("p", { dir: "auto" }, claim.quote.diagnosis),
      el("ul", {}, claim.quote.lines.map((q) => el("li", {}, bdi(q.description), ` × ${q.quantity} · ${money(q.unitPrice)}`))),
      el("p", {}, `${t("total")}: ${money(claim.quote.total)}`)) : null,
    claim.photos.length ? el("section", { class: "photos" }, claim.photos.map(photoLink)) : null,
    el("section", { id: "timeline" }, el("h3", {}, t("timeline")), el("ol", {}, claim.events.map((e) =>
      el("li", {}, el("time", {}, date(e.date)), " ", e.toStatus ? label("status_", e.toStatus) : e.type, e.message ? [" — ", bdi(e.message)] : "")))),
    actions.length ? el("section", { class: "actions" }, actions) : null, errors);
}

// The thumbnail, opening the whole (bounded) photo.
function photoLink(p) {
  return el("a", { href: p.url, target: "_blank", rel: "noopener" }, el("img", { src: p.thumbnailUrl || p.url, alt: "" }));
}

// Warranty check ----------------------------------------------------------------

function warrantyView(main) {
  const result = el("div", { id: "warranty-result" });
  put(main, el("form", {
    id: "warranty-form",
    onsubmit: async (event) => {
      event.preventDefault();
      try {
        const data = await gql(`query($code: String!) { warrantyCardVerify(code: $code) {
          valid status productName variantName endsAt errors { code message } } }`,
        { code: new FormData(event.target).get("code") });
        const card = payload(data, "warrantyCardVerify");
        result.replaceChildren(el("p", { class: card.valid ? "valid" : "error", id: "warranty-valid" },
          card.valid ? t("valid") : t("notValid")), el("p", {}, bdi(card.productName), " ", bdi(card.variantName)),
        el("p", {}, `${t("validUntil")}: ${date(card.endsAt)}`));
      } catch (e) { showErrors(result, e); }
    },
  }, el("h2", {}, t("warrantyCheck")), el("label", {}, t("code"), el("input", { name: "code", required: true })),
  el("button", { type: "submit" }, t("check"))), result);
}

// A sign-in link from the e-mail: #signin=<token>, traded once for the order's
// guest proof. The token leaves the address bar (and history) first.
async function redeemLink(token) {
  try {
    const found = payload(await gql(`mutation($t: String!) {
      aftersalesOrderLinkRedeem(token: $t) { orderToken orderNumber errors { code message } } }`,
    { t: token }), "aftersalesOrderLinkRedeem");
    openOrder({ token: found.orderToken });
  } catch (e) {
    state.view = "find";
    render();
    showErrors(document.getElementById("find-errors"), e);
  }
}

function takeSigninLink() {
  const signin = /^#signin=(.+)$/.exec(location.hash);
  if (!signin) return false;
  history.replaceState(null, "", location.pathname + location.search);
  state.view = "find";
  state.notice = null;
  render();
  redeemLink(decodeURIComponent(signin[1]));
  return true;
}

// A link pasted into a tab already showing the portal changes only the hash.
window.addEventListener("hashchange", takeSigninLink);

document.addEventListener("DOMContentLoaded", () => {
  if (takeSigninLink()) return;
  if (state.orderToken || state.orderId) state.view = "order";
  render();
});
