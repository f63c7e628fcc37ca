"use strict";
// Renders a verify answer for a person. Every piece of data goes in as text (textContent or
// text nodes), never as markup.

const VERDICTS = {
  GENUINE_UNSOLD: {
    tone: "good", icon: "\u2713", title: "Genuine",
    sentence: () => "Genuine. This bottle has not been sold yet.",
  },
  GENUINE_SOLD: {
    tone: "info", icon: "\u2713", title: "Genuine, already sold",
    sentence: (a) => "Genuine. This bottle was already sold" + saleWords(a.sale)
      + ". If it is offered to you as new, do not buy it.",
  },
  SUSPECT: {
    tone: "warn", icon: "!", title: "Suspect",
    sentence: suspectSentence,
  },
  NOT_GENUINE: {
    tone: "bad", icon: "\u2717", title: "Not genuine",
    sentence: () => "Not genuine. No producer ever registered this code, yet someone tried to "
      + "trade it: it is most likely a counterfeit.",
  },
  UNKNOWN: {
    tone: "warn", icon: "?", title: "Unknown code",
    sentence: () => "Unknown. The chain has no record of this code. It may be counterfeit; "
      + "do not rely on it.",
  },
  INVALID_CODE: {
    tone: "neutral", icon: "?", title: "Not a valid code",
    sentence: () => "This is not a valid bottle code. Scan it again.",
  },
};

const ALERT_TITLES = {
  INVALID_CODE: "Invalid code",
  UNKNOWN_CODE: "No record of this code",
  ATTRIBUTE_MISMATCH: "The lot on the label does not match the record",
  NOT_RELEASED: "Code never put on a filled bottle",
  ALREADY_SOLD: "Already sold",
  SALE_BY_NON_CUSTODIAN: "Sale tried by a shop that did not hold it",
  DIVERTED: "Left its intended route",
  RECALLED: "Recalled by the producer",
  STOLEN: "Reported stolen",
  HOLD: "On hold for inspection",
  DESTROYED: "Destroyed",
  VOID: "Code retired",
  MULTI_SCAN: "Checked unusually often",
  TAG_INVALID: "NFC tag is not genuine",
  TAG_REPLAY: "NFC tag reading was replayed",
  TAG_OPENED: "Seal reported open",
  AGGREGATION_MISMATCH: "Packaging does not match the record",
};

const STATE_WORDS = {
  ISSUED: "Code issued, not yet on a bottle",
  ACTIVE: "Filled and registered",
  IN_TRANSIT: "On its way",
  IN_STOCK: "In stock",
  SOLD: "Sold",
  DESTROYED: "Destroyed",
  VOID: "Code retired",
};

// The steps this page checks: a bottle's (STEPS), a product's (PRODUCT_STEPS) or an
// unregistered GTIN's (ABSENCE_STEPS).
let checkedSteps = STEPS;

const STEP_WORDS = { ok: "OK", failed: "FAILED", unsupported: "NOT CHECKED", skipped: "NOT CHECKED", pending: "..." };

function $(id) {
  return document.getElementById(id);
}

/** An element with text children; attributes are fixed names set by this file. */
function el(tag, className, ...children) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  for (const child of children) {
    node.append(typeof child === "string" ? document.createTextNode(child) : child);
  }
  return node;
}

function isoDate(ms) {
  return Number.isFinite(ms) ? new Date(ms).toISOString().slice(0, 10) : "an unknown date";
}

function name(party) {
  return party && typeof party.name === "string" ? party.name : "an unknown party";
}

function saleWords(sale) {
  if (!sale) return "";
  return " on " + isoDate(sale.time_ms) + " in " + sale.city;
}

function suspectSentence(answer) {
  const flags = answer.flags || [];
  if (flags.includes("RECALLED")) {
    return "Suspect. This bottle was recalled by its producer. Do not drink it; "
      + "take it back to where you bought it.";
  }
  if ((answer.alerts || []).some((a) => a.code === "RECALLED")) {
    return "Suspect. The producer recalled the lot this bottle was filled from. Do not drink "
      + "it; take it back to where you bought it.";
  }
  if (flags.includes("STOLEN")) return "Suspect. This bottle was reported stolen. Do not buy it.";
  if ((answer.alerts || []).some((a) => a.code === "ATTRIBUTE_MISMATCH")) {
    return "Suspect. This code was put on a bottle of another lot than the label says: the label "
      + "may be copied. Do not buy it.";
  }
  return "Suspect. This bottle is on record, but something is wrong with it (see the alerts). "
    + "Do not buy it until this is cleared.";
}

function show(id, visible) {
  $(id).hidden = !visible;
}

function renderVerdict(answer) {
  const verdict = VERDICTS[answer.verdict] || {
    tone: "neutral", icon: "?", title: "No answer",
    sentence: () => "The node gave an answer this page does not understand.",
  };
  // A genuine bottle with a critical alert (e.g. already sold, checked before buying) is
  // shown as a warning, not in green.
  const critical = (answer.alerts || []).some((a) => a.severity === "critical");
  const escalate = critical && (verdict.tone === "good" || verdict.tone === "info");
  $("verdict").className = "tone-" + (escalate ? "warn" : verdict.tone);
  $("verdict-icon").textContent = escalate ? "!" : verdict.icon;
  $("verdict-title").textContent = verdict.title;
  $("verdict-sentence").textContent = verdict.sentence(answer);
  document.title = verdict.title + " - bottle check";
}

function renderAlerts(alerts) {
  const list = $("alerts");
  list.replaceChildren();
  for (const alert of alerts || []) {
    const severity = ["critical", "warning", "info"].includes(alert.severity) ? alert.severity : "info";
    const item = el("li", "sev-" + severity,
      el("span", "sev", severity),
      el("strong", "", ALERT_TITLES[alert.code] || String(alert.code)));
    if (alert.message) item.append(el("div", "", String(alert.message)));
    const when = [];
    if (Number.isFinite(alert.since_ms)) when.push("since " + isoDate(alert.since_ms));
    if (alert.count > 1) when.push(alert.count + " times");
    if (when.length) item.append(el("div", "small", when.join(", ")));
    list.append(item);
  }
  show("alerts-section", list.children.length > 0);
}

function fact(list, term, value) {
  list.append(el("dt", "", term), el("dd", "", value));
}

function renderProduct(answer) {
  const list = $("product");
  list.replaceChildren();
  if (answer.code) fact(list, "Code", answer.element_string || answer.code);
  if (answer.product) masterData(list, answer.product);
  if (answer.lot) {
    fact(list, "Lot", String(answer.lot));
  }
  if (answer.state) fact(list, "Now", STATE_WORDS[answer.state] || String(answer.state));
  if (answer.custodian) fact(list, answer.state === "SOLD" ? "Last held by" : "Held by", name(answer.custodian));
  if (answer.flags && answer.flags.length) fact(list, "Flags", answer.flags.join(", ").toLowerCase());
  if (answer.replaced_by) fact(list, "Replaced by", String(answer.replaced_by));
  if (answer.kind === "container") fact(list, "Kind", "A case or pallet, not a bottle");
  show("product-section", list.children.length > 0);
}

/** The product's name, bottle, GTIN and producer, as facts. */
function masterData(list, product) {
  if (product.name) fact(list, "Product", String(product.name));
  if (product.volume_ml !== undefined && product.abv_bp !== undefined) {
    fact(list, "Bottle", `${product.volume_ml} ml, ${(product.abv_bp / 100).toFixed(2)}% alcohol`);
  }
  fact(list, "GTIN", String(product.gtin));
  fact(list, "Producer", name(product.producer));
}

function renderSale(sale) {
  show("sale-section", !!sale);
  if (sale) $("sale").textContent = "Sold by " + name(sale.store) + " in " + sale.city + " on " + isoDate(sale.time_ms) + ".";
}

function historyLine(e) {
  const by = name(e.by);
  const words = {
    issue: "Code issued by " + by,
    commission: "Filled, labelled and registered by " + by,
    pack: "Packed by " + by,
    unpack: "Unpacked by " + by,
    ship: "Shipped by " + by + (e.to ? " to " + name(e.to) : ""),
    void_ship: "Shipment cancelled by " + by,
    receive: "Received by " + by,
    sell: "Sold by " + by + (e.city ? " in " + e.city : ""),
    undo_sale: "Sale undone by " + by,
    return: "Returned to the producer via " + by,
    set_flag: "Flagged by " + by,
    clear_flag: "Flag cleared by " + by,
    destroy: "Destroyed by " + by,
    void: "Code retired by " + by,
  };
  let text = words[e.op] || String(e.op) + " by " + by;
  if (e.detail) text += " (" + e.detail + ")";
  if (e.via) text += ", with the case it was in";
  return text;
}

function renderHistory(history) {
  const list = $("history");
  list.replaceChildren();
  for (const entry of history || []) {
    const time = el("time", "", isoDate(entry.time_ms) + " \u00b7 block " + entry.height);
    if (Number.isFinite(entry.time_ms)) time.dateTime = new Date(entry.time_ms).toISOString();
    list.append(el("li", "", time, historyLine(entry)));
  }
  show("history-section", list.children.length > 0);
}

function renderScans(stats) {
  show("scans-section", !!stats);
  if (!stats) return;
  let text = "Checked " + stats.count + (stats.count === 1 ? " time" : " times")
    + " on this node (this check included)";
  if (Number.isFinite(stats.first_ms)) text += ", first on " + isoDate(stats.first_ms);
  if (stats.cities_30d > 0) {
    text += "; from " + stats.cities_30d + (stats.cities_30d === 1 ? " city" : " cities") + " in the last 30 days";
  }
  text += ".";
  $("scans").textContent = text;
}

function renderStep(index, status, detail) {
  const list = $("proof-steps");
  const item = el("li", "step-" + status,
    el("span", "step-state", STEP_WORDS[status]),
    el("span", "", checkedSteps[index].title));
  item.dataset.step = checkedSteps[index].id;
  if (detail) item.append(el("div", "small", detail));
  const old = list.children[index];
  if (old) old.replaceWith(item);
  else list.append(item);
}

function proofFacts(facts) {
  const list = $("proof-facts");
  list.replaceChildren();
  fact(list, "Chain", String(facts.chainId));
  fact(list, "Block height", String(facts.height));
  list.append(el("dt", "", "Block id"), el("dd", "mono", String(facts.blockId)));
  if (facts.genesisHash) list.append(el("dt", "", "Genesis hash"), el("dd", "mono", facts.genesisHash));
  if (facts.key) list.append(el("dt", "", "Record key"), el("dd", "mono", facts.key));
  show("proof-details", true);
}

function proofOutcome(answer, facts) {
  const status = $("proof-status");
  const badge = $("proof-badge");
  if (facts.outcome === "ok") {
    status.className = "ok";
    status.textContent = "\u2713 Proof verified";
    $("proof-summary").textContent = "Your browser checked that this answer is in block " + facts.height
      + ", signed by " + facts.signers + " of " + facts.validators
      + " validators of the chain whose genesis hash is " + facts.genesisHash
      + ". Compare that hash with the one the producer publishes.";
    badge.textContent = "\u2713 Proof verified by your browser";
    show("proof-scope", true);
  } else if (facts.outcome === "partial") {
    status.className = "partial";
    status.textContent = "! Proof partly verified";
    $("proof-summary").textContent = "This browser cannot check the validators' signatures, so the "
      + "block is not shown to be signed by the chain. Try another, up to date browser.";
    badge.textContent = "! Proof only partly verified";
  } else {
    const step = facts.failedStep;
    status.className = "failed";
    status.textContent = "\u2717 Proof failed at step " + (step + 1) + ": " + checkedSteps[step].title.toLowerCase();
    $("proof-summary").textContent = "Do not trust this answer: it does not check out against the chain.";
    const said = VERDICTS[answer.verdict];
    $("verdict").className = "tone-bad";
    $("verdict-icon").textContent = "\u2717";
    $("verdict-title").textContent = "Cannot be trusted";
    const subject = answer.kind === "product" ? "whether this product or lot is recalled"
      : "whether the bottle is genuine";
    const claimed = said ? said.title : $("verdict-title").dataset.claimed;
    $("verdict-sentence").textContent = "The answer failed its proof check, so this page cannot tell "
      + subject + ". Do not rely on it." + (claimed ? " (The answer claimed: " + claimed + ".)" : "");
    badge.textContent = "\u2717 Proof failed";
    show("untrusted", true);
  }
  proofFacts(facts);
}

async function renderProof(answer, check) {
  const status = $("proof-status");
  if (answer.verdict === "INVALID_CODE") {
    status.textContent = "Nothing to prove: the code itself is not valid.";
    return;
  }
  if (!answer.proof) {
    status.textContent = "No proof yet: the chain has not signed any block.";
    return;
  }
  if (!(window.crypto && crypto.subtle)) {
    status.className = "partial";
    status.textContent = "! Proof not checked";
    $("proof-summary").textContent = "This browser only checks proofs on a secure (https) page.";
    return;
  }
  status.textContent = "Checking the proof...";
  $("proof-badge").textContent = "Checking the proof...";
  checkedSteps.forEach((_, i) => renderStep(i, "pending", ""));
  const pinned = /(?:^#|&)genesis=([0-9a-f]{64})(?:&|$)/.exec(location.hash);
  const facts = await check(answer, pinned ? pinned[1] : null, renderStep);
  proofOutcome(answer, facts);
}

// ---- a product's or a lot's address: `/01/{gtin}` or `/01/{gtin}/10/{lot}` ----

function renderProductVerdict(answer) {
  const product = answer.product || {};
  const called = typeof product.name === "string" ? product.name : "this product";
  const status = answer.lot;
  const recalls = Array.isArray(answer.recalled_lots) ? answer.recalled_lots : [];
  let tone, icon, title, sentence;
  if (status && status.recalled) {
    tone = "bad"; icon = "!"; title = "Lot recalled";
    sentence = "The producer recalled lot " + status.lot + " of " + called
      + (status.recall ? " on " + isoDate(status.recall.since_ms) : "")
      + ". Do not drink bottles of this lot; take them back to where you bought them.";
  } else if (status) {
    tone = "good"; icon = "\u2713"; title = "Lot not recalled";
    sentence = "The producer has not recalled lot " + status.lot + " of " + called + ". This label "
      + "names no single bottle, so it cannot tell whether a bottle is genuine: check the code on "
      + "the bottle itself for that.";
  } else {
    tone = recalls.length ? "warn" : "info"; icon = recalls.length ? "!" : "i"; title = "Product on record";
    sentence = called + " is registered by " + name(product.producer) + ". "
      + (recalls.length === 0 ? "None of its lots is recalled."
        : recalls.length + (recalls.length === 1 ? " lot of it is" : " lots of it are") + " recalled (below).");
  }
  $("verdict").className = "tone-" + tone;
  $("verdict-icon").textContent = icon;
  $("verdict-title").textContent = title;
  $("verdict-title").dataset.claimed = title;
  $("verdict-sentence").textContent = sentence;
  document.title = title + " - product check";
}

function renderProductFacts(answer) {
  const list = $("product");
  list.replaceChildren();
  masterData(list, answer.product || {});
  if (answer.lot) {
    fact(list, "Lot", String(answer.lot.lot) + (answer.lot.recalled ? " (recalled)" : " (not recalled)"));
  }
  $("product-heading").textContent = answer.lot ? "This lot" : "This product";
  show("product-section", true);
}

function renderRecalls(answer) {
  const list = $("recalls");
  list.replaceChildren();
  const producer = name((answer.product || {}).producer);
  for (const recall of Array.isArray(answer.recalled_lots) ? answer.recalled_lots : []) {
    list.append(el("li", "sev-critical",
      el("strong", "", "Lot " + String(recall.lot)),
      el("div", "", "Recalled by " + producer + " on " + isoDate(recall.since_ms) + ".")));
  }
  show("recalls-section", list.children.length > 0);
}

async function renderProductAnswer(answer) {
  checkedSteps = PRODUCT_STEPS;
  renderProductVerdict(answer);
  renderProductFacts(answer);
  renderRecalls(answer);
  $("proof-scope").textContent = "Your browser checked these steps itself, with no help from the "
    + "node. The proof covers the product, its recalled lots and the lot's status; the "
    + "producer's name comes from the node.";
  await renderProof(answer, checkProductAnswer);
}

/** A GTIN nobody registered: the page says so, and checks the proof of the absence. */
async function renderUnregisteredAnswer(answer) {
  checkedSteps = ABSENCE_STEPS;
  $("verdict").className = "tone-warn";
  $("verdict-icon").textContent = "!";
  const title = "Product not on record";
  $("verdict-title").textContent = title;
  $("verdict-title").dataset.claimed = title;
  $("verdict-sentence").textContent = "No producer on this chain registered the product "
    + String(answer.gtin) + ". If the label says it comes from one of them, it may not be genuine: "
    + "do not rely on it, and check the code on the bottle itself.";
  document.title = title + " - product check";
  $("proof-scope").textContent = "Your browser checked these steps itself, with no help from the "
    + "node. The proof covers the absence of the product from the chain's registry.";
  await renderProof(answer, checkAbsenceAnswer);
}

function renderFailure(message) {
  $("verdict").className = "tone-neutral";
  $("verdict-icon").textContent = "?";
  $("verdict-title").textContent = "Could not check";
  $("verdict-sentence").textContent = message;
  $("proof-status").textContent = "No answer to check.";
}

async function main() {
  let answer;
  let unregistered = false;
  try {
    const response = await fetch(location.pathname + location.search, {
      cache: "no-store",
      headers: { Accept: "application/json" },
    });
    answer = await response.json();
    const known = answer && (typeof answer.verdict === "string" || answer.kind === "product");
    // A GTIN nobody registered comes with 404 and the proof of that.
    unregistered = !!answer && response.status === 404 && answer.kind === "unregistered";
    if (!unregistered && (!response.ok || !known)) {
      const reason = answer && answer.error && answer.error.message;
      renderFailure("The node could not answer" + (reason ? ": " + reason : "") + ".");
      return;
    }
  } catch (e) {
    renderFailure("The verification service did not answer. Check your connection and try again.");
    return;
  }
  if (unregistered) {
    await renderUnregisteredAnswer(answer);
    document.body.dataset.done = "true";
    return;
  }
  if (answer.kind === "product") {
    await renderProductAnswer(answer);
    document.body.dataset.done = "true";
    return;
  }
  renderVerdict(answer);
  renderAlerts(answer.alerts);
  renderProduct(answer);
  renderSale(answer.sale);
  renderHistory(answer.history);
  renderScans(answer.scan_stats);
  await renderProof(answer, checkAnswer);
  document.body.dataset.done = "true";
}

main();
