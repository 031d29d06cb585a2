// Shared by the portal and the console: GraphQL over this origin's /graphql/,
// English and Simplified Chinese texts, and DOM building that never parses HTML
// (customer text is always shown as text, isolated from its neighbours' direction).
"use strict";

const API = "/graphql/";
// Where the page signs in and reads a shopper's orders: Saleor's own API. The
// 2.10 plugin serves both at this origin's /graphql/; the Saleor 3.23 app names
// the Saleor it is installed in, and the app whose Dashboard token staff use.
const SALEOR_API = document.documentElement.dataset.saleorApi || API;
const APP_ID = document.documentElement.dataset.appId || "";

const TEXTS = {
  en: {
    language: "Language", portal: "Returns & repairs", console: "After-sales desk",
    findOrder: "Find your order", orderNumber: "Order number", email: "E-mail",
    find: "Find", linkSent: "If this order is yours, we've sent a link to its e-mail.",
    orSignIn: "Or sign in", password: "Password", signIn: "Sign in",
    signOut: "Sign out", yourOrders: "Your orders", order: "Order", open: "Open",
    warrantyCheck: "Check a warranty", code: "Card code", check: "Check",
    valid: "Valid", notValid: "Not valid", validUntil: "Valid until",
    product: "Product", delivered: "Delivered", returnable: "Returnable",
    exchangeable: "Exchangeable", returnBy: "Return by", exchangeBy: "Exchange by",
    finalSale: "Final sale", claimType: "What do you need?", RETURN: "Return",
    EXCHANGE: "Exchange", REPAIR: "Repair", quantity: "Quantity", reason: "Reason",
    comment: "Comment", replacement: "Replacement", serialNumber: "Serial number",
    photos: "Photos (up to 5, JPEG/PNG/WebP, 5 MB each)", note: "Note",
    submit: "Send request", submitted: "Your request {number} was received.",
    nothingReturnable: "Nothing of this order can be returned or exchanged now.",
    chooseLines: "Choose at least one unit.", claims: "Your requests",
    claim: "Request", status: "Status", timeline: "Timeline", lines: "Lines",
    refunds: "Refunds", cancel: "Cancel request", appeal: "Appeal",
    provideInfo: "Send information", acceptQuote: "Accept quote",
    declineQuote: "Decline quote", rate: "Rate", rating: "Rating (1-5)",
    quote: "Quote", total: "Total", back: "Back", giftCard: "Gift card",
    approved: "Approved", received: "Received", refunded: "Refunded",
    queue: "Queue", all: "All", overdue: "Overdue", search: "Search", type: "Type",
    customer: "Customer", created: "Created", due: "Due", assignee: "Assignee",
    sort: "Sort", newest: "Newest", dueFirst: "Due first", approve: "Approve",
    reject: "Reject", requestInfo: "Ask for information", receive: "Receive",
    refund: "Refund", preview: "Preview", includeShipping: "Include shipping",
    restockingFee: "Restocking fee %", amount: "Amount", method: "Method",
    REFUNDM: "Original payment", STORE_CREDIT: "Store credit", addNote: "Add note",
    assignToMe: "Assign to me", unassign: "Unassign", close: "Close",
    fulfillExchange: "Send replacement", createQuote: "Create quote",
    underWarranty: "Under warranty", diagnosis: "Diagnosis", addLine: "Add line",
    repairStatus: "Repair update", disposition: "Disposition",
    overridePolicy: "Approve outside the policy", history: "Customer history",
    claimCount: "Claims", returnRate: "Return rate", serialReturner: "Serial returner",
    description: "Description", unitPrice: "Unit price", kind: "Kind", done: "Done.",
    notStaff: "This account can't manage claims.", loading: "Loading…",
    noClaims: "No claims match.", goods: "Goods", shipping: "Shipping",
    fee: "Fee", maximum: "Maximum", rejectReason: "Reason",
    handBack: "Hand back", tracking: "Tracking number",
    repairNote: "Repair note (the customer sees it)",
    printSlip: "Print return slip", letter: "Letter",
    analytics: "Analytics", period: "Period", last7: "Last 7 days", last30: "Last 30 days",
    last90: "Last 90 days", calendarMonth: "Calendar month", customPeriod: "From – to",
    month: "Month", from: "From", to: "To", claimTypes: "Claim types", channel: "Channel",
    allChannels: "All channels", comparePrevious: "Compare with the previous period",
    exportClaims: "Export claims (CSV)", csv: "CSV", dataTable: "Data as a table",
    previousPeriod: "Previous period", current: "This period", change: "Change",
    claimsOpened: "Claims opened", slaCompliance: "SLA compliance",
    medianFirstResponse: "Median first response", medianResolution: "Median resolution",
    averageRating: "Average rating", refundedIn: "Refunded ({currency})", hoursShort: "h",
    openedPerDay: "Claims opened per day", reasonsUnits: "Reasons (units)",
    returnRatePerProduct: "Return rate per product", weeklySla: "SLA compliance per week (%)",
    weeklyFirstResponse: "Median first response per week (hours)",
    weeklyResolution: "Median resolution per week (hours)",
    refundsPerDay: "Refunds per day ({currency})", ratingDistribution: "Ratings",
    target: "Target", day: "Day", week: "Week from", weekEnd: "Week to", units: "Units",
    unitsSold: "Units sold", unitsReturned: "Units returned", ratePercent: "Rate %",
    count: "Count", noData: "Nothing in this period.",
    rateLabel: "{rate}% · {returned} of {sold} sold", claimsFound: "{count} claims",
    activeFilters: "Filtered by", removeFilter: "Remove filter", yes: "yes", no: "no",
    filter_created: "Created", filter_type: "Type", filter_reason: "Reason",
    filter_product: "Product", filter_rating: "Rating", filter_refunded: "Refunded",
    filter_refundMethod: "Refund method", filter_slaMet: "SLA met", filter_channel: "Channel",
    errors: {
      NOT_FOUND: "Not found. Check the number and e-mail.",
      INVALID_LINK: "This link has expired or was already used; ask for a new one.",
      OUTSIDE_WINDOW: "The time to return this item has passed.",
      FINAL_SALE: "This item was a final sale and can't be returned.",
      QUANTITY_EXCEEDED: "That is more units than can be claimed.",
      NOT_FULFILLED: "This item hasn't been delivered yet.",
      THROTTLED: "Too many attempts. Wait a minute and try again.",
      INVALID_STATUS: "This step isn't possible now.",
      FILE_TOO_LARGE: "That photo is larger than 5 MB.",
      IMAGE_TOO_LARGE: "That photo has too many pixels (at most 40 megapixels).",
      INVALID_FILE_TYPE: "Only JPEG, PNG or WebP photos are accepted.",
      TOO_MANY_FILES: "A request holds at most 5 photos.",
      REQUIRED: "Please fill in what is missing.",
      PERMISSION_DENIED: "You aren't allowed to do this.",
      NOT_STAFF: "This account can't manage claims.",
      INVALID_CREDENTIALS: "Wrong e-mail or password.",
      AMOUNT_EXCEEDED: "That amount is more than can be refunded.",
      NOTHING_TO_REFUND: "Nothing is left to refund.",
      POLICY_OVERRIDE_REQUIRED: "Outside the policy: approving needs an override.",
      REPLACEMENT_NOT_ALLOWED: "That replacement isn't allowed.",
      OUT_OF_STOCK: "The replacement is out of stock.",
      NETWORK: "The shop can't be reached. Try again.",
      QUOTE_NOT_PAID: "The repair quote hasn't been paid yet.",
      ALREADY_RATED: "This request has already been rated.",
      ALREADY_APPEALED: "This request has already been appealed.",
      REPAIR_NOTE_REQUIRED: "Write a repair note for the customer first.",
    },
    status_: {
      REQUESTED: "Requested", NEEDS_INFO: "Needs information", APPEALED: "Appealed",
      APPROVED: "Approved", REJECTED: "Rejected", CANCELLED: "Cancelled",
      RECEIVED: "Received", QUOTED: "Quoted", IN_REPAIR: "In repair",
      RESOLVED: "Resolved", CLOSED: "Closed",
    },
    reason_: {
      DEFECTIVE: "Defective", DAMAGED_IN_TRANSIT: "Damaged in transit",
      WRONG_ITEM: "Wrong item", NOT_AS_DESCRIBED: "Not as described",
      SIZE_OR_FIT: "Size or fit", CHANGED_MIND: "Changed my mind",
      MISSING_PARTS: "Missing parts", OTHER: "Other",
    },
  },
  "zh-Hans": {
    language: "语言", portal: "退换货与维修", console: "售后服务台",
    findOrder: "查找您的订单", orderNumber: "订单号", email: "电子邮箱",
    find: "查找", linkSent: "如果这是您的订单，我们已向其电子邮箱发送了链接。",
    orSignIn: "或登录", password: "密码", signIn: "登录",
    signOut: "退出", yourOrders: "您的订单", order: "订单", open: "打开",
    warrantyCheck: "查询保修", code: "保修卡号", check: "查询",
    valid: "有效", notValid: "无效", validUntil: "有效期至",
    product: "商品", delivered: "已发货", returnable: "可退货",
    exchangeable: "可换货", returnBy: "退货截止", exchangeBy: "换货截止",
    finalSale: "最终销售", claimType: "您需要什么服务？", RETURN: "退货",
    EXCHANGE: "换货", REPAIR: "维修", quantity: "数量", reason: "原因",
    comment: "说明", replacement: "更换为", serialNumber: "序列号",
    photos: "照片（最多 5 张，JPEG/PNG/WebP，每张 5 MB 以内）", note: "备注",
    submit: "提交申请", submitted: "已收到您的申请 {number}。",
    nothingReturnable: "此订单目前没有可退换的商品。",
    chooseLines: "请至少选择一件商品。", claims: "您的申请",
    claim: "申请", status: "状态", timeline: "进度", lines: "商品",
    refunds: "退款", cancel: "撤销申请", appeal: "申诉",
    provideInfo: "补充信息", acceptQuote: "接受报价",
    declineQuote: "拒绝报价", rate: "评价", rating: "评分（1-5）",
    quote: "报价", total: "合计", back: "返回", giftCard: "礼品卡",
    approved: "已批准", received: "已收货", refunded: "已退款",
    queue: "工单队列", all: "全部", overdue: "已超时", search: "搜索", type: "类型",
    customer: "客户", created: "创建时间", due: "截止", assignee: "负责人",
    sort: "排序", newest: "最新", dueFirst: "最早截止", approve: "批准",
    reject: "拒绝", requestInfo: "要求补充信息", receive: "收货",
    refund: "退款", preview: "预览", includeShipping: "包含运费",
    restockingFee: "重新上架费 %", amount: "金额", method: "方式",
    REFUNDM: "原支付方式", STORE_CREDIT: "商店余额", addNote: "添加备注",
    assignToMe: "分配给我", unassign: "取消分配", close: "关闭",
    fulfillExchange: "发出换货", createQuote: "创建报价",
    underWarranty: "保修范围内", diagnosis: "诊断", addLine: "添加一行",
    repairStatus: "维修进度", disposition: "处理方式",
    overridePolicy: "特批（超出政策）", history: "客户记录",
    claimCount: "申请数", returnRate: "退货率", serialReturner: "频繁退货",
    description: "描述", unitPrice: "单价", kind: "类别", done: "完成。",
    notStaff: "此账户无权处理售后申请。", loading: "加载中…",
    noClaims: "没有符合条件的申请。", goods: "商品金额", shipping: "运费",
    fee: "手续费", maximum: "最多", rejectReason: "原因",
    handBack: "交还方式", tracking: "运单号",
    repairNote: "维修说明（客户可见）",
    printSlip: "打印退货单", letter: "美国信纸",
    analytics: "数据分析", period: "时间范围", last7: "最近 7 天", last30: "最近 30 天",
    last90: "最近 90 天", calendarMonth: "自然月", customPeriod: "自定义起止日期",
    month: "月份", from: "开始", to: "结束", claimTypes: "申请类型", channel: "渠道",
    allChannels: "全部渠道", comparePrevious: "与上一周期对比",
    exportClaims: "导出申请（CSV）", csv: "CSV", dataTable: "数据表",
    previousPeriod: "上一周期", current: "本期", change: "变化",
    claimsOpened: "新增申请", slaCompliance: "SLA 达标率",
    medianFirstResponse: "首次响应时间中位数", medianResolution: "解决时间中位数",
    averageRating: "平均评分", refundedIn: "退款（{currency}）", hoursShort: "小时",
    openedPerDay: "每日新增申请", reasonsUnits: "申请原因（件数）",
    returnRatePerProduct: "商品退货率", weeklySla: "每周 SLA 达标率（%）",
    weeklyFirstResponse: "每周首次响应时间中位数（小时）",
    weeklyResolution: "每周解决时间中位数（小时）",
    refundsPerDay: "每日退款（{currency}）", ratingDistribution: "评分分布",
    target: "目标", day: "日期", week: "周起始", weekEnd: "周结束", units: "件数",
    unitsSold: "售出件数", unitsReturned: "退回件数", ratePercent: "比率 %",
    count: "数量", noData: "此时间段内没有数据。",
    rateLabel: "{rate}% · 售出 {sold} 件，退回 {returned} 件", claimsFound: "共 {count} 个申请",
    activeFilters: "筛选条件", removeFilter: "移除筛选", yes: "是", no: "否",
    filter_created: "创建日期", filter_type: "类型", filter_reason: "原因",
    filter_product: "商品", filter_rating: "评分", filter_refunded: "退款日期",
    filter_refundMethod: "退款方式", filter_slaMet: "SLA 达标", filter_channel: "渠道",
    errors: {
      NOT_FOUND: "未找到。请检查订单号和电子邮箱。",
      INVALID_LINK: "此链接已过期或已被使用，请重新获取。",
      OUTSIDE_WINDOW: "此商品已超过退货期限。",
      FINAL_SALE: "此商品为最终销售，不可退货。",
      QUANTITY_EXCEEDED: "数量超过可申请的件数。",
      NOT_FULFILLED: "此商品尚未发货。",
      THROTTLED: "尝试次数过多，请一分钟后再试。",
      INVALID_STATUS: "当前无法进行此操作。",
      FILE_TOO_LARGE: "照片超过 5 MB。",
      IMAGE_TOO_LARGE: "照片像素过多（最多 4000 万像素）。",
      INVALID_FILE_TYPE: "只接受 JPEG、PNG 或 WebP 照片。",
      TOO_MANY_FILES: "每个申请最多 5 张照片。",
      REQUIRED: "请填写缺少的内容。",
      PERMISSION_DENIED: "您无权进行此操作。",
      NOT_STAFF: "此账户无权处理售后申请。",
      INVALID_CREDENTIALS: "电子邮箱或密码错误。",
      AMOUNT_EXCEEDED: "金额超过可退款金额。",
      NOTHING_TO_REFUND: "没有可退款的金额。",
      POLICY_OVERRIDE_REQUIRED: "超出政策范围：批准需要特批。",
      REPLACEMENT_NOT_ALLOWED: "不允许更换为此商品。",
      OUT_OF_STOCK: "更换商品缺货。",
      NETWORK: "无法连接商店，请重试。",
      QUOTE_NOT_PAID: "维修报价尚未付款。",
      ALREADY_RATED: "此申请已评价过。",
      ALREADY_APPEALED: "此申请已申诉过。",
      REPAIR_NOTE_REQUIRED: "请先填写给客户的维修说明。",
    },
    status_: {
      REQUESTED: "已提交", NEEDS_INFO: "待补充信息", APPEALED: "申诉中",
      APPROVED: "已批准", REJECTED: "已拒绝", CANCELLED: "已撤销",
      RECEIVED: "已收货", QUOTED: "已报价", IN_REPAIR: "维修中",
      RESOLVED: "已解决", CLOSED: "已关闭",
    },
    reason_: {
      DEFECTIVE: "质量问题", DAMAGED_IN_TRANSIT: "运输损坏",
      WRONG_ITEM: "发错商品", NOT_AS_DESCRIBED: "与描述不符",
      SIZE_OR_FIT: "尺码不合适", CHANGED_MIND: "不想要了",
      MISSING_PARTS: "缺少配件", OTHER: "其他",
    },
  },
};

function pickLanguage() {
  const saved = localStorage.getItem("aftersales-language");
  if (saved && TEXTS[saved]) return saved;
  const wanted = navigator.languages || [navigator.language || "en"];
  return wanted.some((l) => l.toLowerCase().startsWith("zh")) ? "zh-Hans" : "en";
}

let LANGUAGE = pickLanguage();

function t(key, params) {
  let text = TEXTS[LANGUAGE][key] || TEXTS.en[key] || key;
  Object.entries(params || {}).forEach(([k, v]) => { text = text.replace(`{${k}}`, v); });
  return text;
}

function label(group, value) {
  return (TEXTS[LANGUAGE][group] || {})[value] || (TEXTS.en[group] || {})[value] || value;
}

// A GraphQL error as the reader's language says it; the server's message, in
// English, when the code has no translation.
function errorText(error) {
  const known = TEXTS[LANGUAGE].errors[error.code];
  return known || error.message;
}

class ApiError extends Error {
  constructor(errors) {
    super(errors.map((e) => e.message).join("; "));
    this.errors = errors;
  }
}

async function gql(query, variables, options) {
  const opts = options || {};
  const headers = {};
  if (opts.token) headers.Authorization = `JWT ${opts.token}`;
  // The app serves several Saleors: it is told which (as the Dashboard does).
  if (SALEOR_API !== API && !opts.api) headers["Saleor-Api-Url"] = SALEOR_API;
  let body;
  if (opts.files) {
    // The GraphQL multipart request spec, as Saleor's view reads it.
    body = new FormData();
    const map = {};
    Object.keys(opts.files).forEach((name, i) => { map[i] = [`variables.${name}`]; });
    body.append("operations", JSON.stringify({ query, variables }));
    body.append("map", JSON.stringify(map));
    Object.values(opts.files).forEach((file, i) => body.append(String(i), file));
  } else {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify({ query, variables: variables || {} });
  }
  let response;
  try {
    response = await fetch(opts.api || API, { method: "POST", headers, body });
  } catch (e) {
    throw new ApiError([{ code: "NETWORK", message: String(e) }]);
  }
  const content = await response.json().catch(() => ({}));
  if (content.errors && content.errors.length) {
    throw new ApiError(content.errors.map((e) => ({
      code: /permission/i.test(e.message) ? "PERMISSION_DENIED" : "GRAPHQL_ERROR",
      message: e.message,
    })));
  }
  return content.data;
}

// Saleor's own API (sign-in, a shopper's orders, who is signed in).
function saleorGql(query, variables, options) {
  return gql(query, variables, Object.assign({ api: SALEOR_API }, options || {}));
}

// Raise the mutation's own typed errors.
function payload(data, name) {
  const result = data[name];
  if (result.errors && result.errors.length) throw new ApiError(result.errors);
  return result;
}

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  Object.entries(attrs || {}).forEach(([key, value]) => {
    if (value === null || value === undefined || value === false) return;
    if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (key === "class") node.className = value;
    else node.setAttribute(key, value === true ? "" : value);
  });
  children.flat().forEach((child) => {
    if (child === null || child === undefined || child === false) return;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  });
  return node;
}

// Text someone typed (notes, comments, names, e-mails, messages, codes), isolated
// from its neighbours' direction: a right-to-left override inside it can't
// reorder the label or the text around it. Nothing for empty text.
function bdi(text) {
  return text === null || text === undefined || text === "" ? null : el("bdi", {}, String(text));
}

// One idempotency key per form shown: a double click, or a retry after the shop
// couldn't be reached, files one claim or one refund.
function newIdempotencyKey() {
  if (crypto.randomUUID) return crypto.randomUUID();
  return [...crypto.getRandomValues(new Uint8Array(16))]
    .map((b) => b.toString(16).padStart(2, "0")).join("");
}

// Runs ``action`` with ``button`` disabled until it ends; clicks meanwhile do
// nothing (a disabled button sends no click, nor submits its form).
async function whileBusy(button, action) {
  if (button.disabled) return;
  button.disabled = true;
  try { await action(); } finally { button.disabled = false; }
}

// append() would print null as "null": leave out what isn't there.
function put(parent, ...children) {
  parent.append(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
}

function money(m) {
  return m ? `${Number(m.amount).toFixed(2)} ${m.currency || ""}`.trim() : "";
}

function date(value) {
  return value ? new Date(value).toLocaleString(LANGUAGE === "zh-Hans" ? "zh-CN" : "en-GB") : "";
}

// The claim's printable return slip (PDF, signed links valid for an hour) in the
// page's language: only where the server offers one (an approved return or
// exchange whose goods are awaited). The claim's query names the links
// slipA4 and slipLetter.
function slipLinks(claim) {
  if (!claim.slipA4) return null;
  const language = `?language=${LANGUAGE === "zh-Hans" ? "zh-hans" : "en"}`;
  const link = (url, text, id) => el("a", { href: url + language, target: "_blank", rel: "noopener", id }, text);
  return el("p", { id: "return-slip" }, `${t("printSlip")} (`, link(claim.slipA4, "A4", "slip-a4"), " / ",
    link(claim.slipLetter, t("letter"), "slip-letter"), ")");
}

function showErrors(container, error) {
  const errors = error instanceof ApiError ? error.errors : [{ message: String(error) }];
  container.replaceChildren(...errors.map((e) =>
    el("p", { class: "error", role: "alert", "data-code": e.code || "" }, errorText(e))));
}

// Sign in with a Saleor account (tokenCreate). ``onSignedIn`` gets the token and
// the user, and may refuse them by throwing an ApiError.
function signInForm(title, errors, onSignedIn) {
  return el("form", {
    id: "signin-form",
    onsubmit: async (event) => {
      event.preventDefault();
      const form = new FormData(event.target);
      try {
        const data = await saleorGql(`mutation($e: String!, $p: String!) {
          tokenCreate(email: $e, password: $p) {
            token user { id email isStaff } accountErrors { code message } } }`,
        { e: form.get("email"), p: form.get("password") });
        const result = data.tokenCreate;
        if (result.accountErrors.length) throw new ApiError(result.accountErrors);
        await onSignedIn(result);
      } catch (e) { showErrors(errors, e); }
    },
  },
  el("h2", {}, title),
  el("label", {}, t("email"), el("input", { name: "email", type: "email", required: true })),
  el("label", {}, t("password"), el("input", { name: "password", type: "password", required: true })),
  el("button", { type: "submit" }, t("signIn")));
}

function languageSwitcher(onChange) {
  return el("label", { class: "language" }, t("language"), " ",
    el("select", {
      id: "language",
      onchange: (event) => {
        LANGUAGE = event.target.value;
        localStorage.setItem("aftersales-language", LANGUAGE);
        document.documentElement.lang = LANGUAGE;
        onChange();
      },
    },
    el("option", { value: "en", selected: LANGUAGE === "en" }, "English"),
    el("option", { value: "zh-Hans", selected: LANGUAGE === "zh-Hans" }, "简体中文")));
}
