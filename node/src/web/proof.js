"use strict";
// The browser's own check of a verify answer, with WebCrypto only (SHA-256, Ed25519). It
// mirrors `verify_record_answer` in node/src/proof.rs, so "Proof verified" means this code
// checked it, not that the node said so:
//   1. the record bytes hash into the records sparse Merkle tree (contracts/src/smt.rs) up
//      to `records_root`, under the key of the code in this page's own address;
//   2. the records leaf hashes up the RFC 6962 path (contracts/src/merkle.rs) to the state
//      root of the block header;
//   3. the header (borsh, node/src/block.rs) hashes to the block id;
//   4. more than two thirds of the genesis voting power signed a precommit for that block
//      (vote sign bytes pinned in node/src/signing.rs). The validator keys come from
//      `GET /genesis`, hashed here: the page shows that hash so a person can compare it
//      with the chain's published one;
//   5. the verdict, state, flags, lot and sale the answer shows are what the proven record
//      says (the leaf is decoded from borsh; contracts/src/provenance/leaf.rs and verdict.rs),
//      with the lot in the page's address compared with the recorded one and the recorded
//      lot looked up in the proven product's recalled lots (`judge_scan`).
// A change to any of those formats must change this file too; the browser test catches it.

const UTF8 = new TextEncoder();
const RECORD_KEY_DOMAIN = UTF8.encode("jiu/code/v1\0");
const BLOCK_DOMAIN = UTF8.encode("jiu/block/v1\0");
const VOTE_TAG = UTF8.encode("jiu/vote/v1\0");
const GENESIS_TAG = UTF8.encode("jiu/genesis/v1\0");
const RECORDS_LEAF_TAG = UTF8.encode("records\0");
const PRODUCT_LEAF_TAG = UTF8.encode("product\0");
const ORG_LEAF_TAG = UTF8.encode("org\0");
const ANCHORS_LEAF_TAG = UTF8.encode("anchors\0");
const EMPTY_HASH = new Uint8Array(32);
const SMT_KEY_BITS = 256;
const GENESIS_BYTES_MAX = 16 * 1024 * 1024;

// Borsh enum orders, as declared in contracts/src/provenance/{state,alerts}.rs.
const LIFE_STATES = ["ISSUED", "ACTIVE", "IN_TRANSIT", "IN_STOCK", "SOLD", "DESTROYED", "VOID"];
const FLAGS = ["RECALLED", "STOLEN", "HOLD", "DAMAGED", "OPENED"];
const ALERT_CODES = [
  "INVALID_CODE", "UNKNOWN_CODE", "ATTRIBUTE_MISMATCH", "NOT_RELEASED", "ALREADY_SOLD",
  "SALE_BY_NON_CUSTODIAN", "DIVERTED", "RECALLED", "STOLEN", "HOLD", "DESTROYED", "VOID",
  "MULTI_SCAN", "TAG_INVALID", "TAG_REPLAY", "TAG_OPENED", "AGGREGATION_MISMATCH",
];
// Alerts only a node's own observations raise; they may make a verdict worse, never better.
const NODE_LOCAL_ALERTS = ["MULTI_SCAN", "TAG_INVALID", "TAG_REPLAY", "TAG_OPENED", "INVALID_CODE"];

/** A check that failed; the message says what, in plain words. */
class Broken extends Error {}
/** A check this browser cannot run (no Ed25519 in its WebCrypto). */
class Unsupported extends Error {}

function need(condition, why) {
  if (!condition) throw new Broken(why);
}

function toHex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function fromHex(text, length, what) {
  need(typeof text === "string" && /^([0-9a-fA-F]{2})*$/.test(text), what + " is not hex");
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(text.substr(2 * i, 2), 16);
  need(length === undefined || out.length === length, what + " must be " + length + " bytes");
  return out;
}

function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function sameBytes(a, b) {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function u32le(n, what) {
  need(Number.isInteger(n) && n >= 0 && n <= 0xffffffff, what + " is not a 32-bit number");
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, n, true);
  return out;
}

function u64le(n, what) {
  // JSON numbers above 2^53 lose digits in JavaScript; refuse rather than hash a wrong value.
  need(Number.isSafeInteger(n) && n >= 0, what + " is not a whole number this page can read");
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt(n), true);
  return out;
}

function borshString(text, what) {
  need(typeof text === "string", what + " is missing");
  const bytes = UTF8.encode(text);
  return concat(u32le(bytes.length, what), bytes);
}

async function sha256(...parts) {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", concat(...parts)));
}

const ONE = Uint8Array.of(1);
const ZERO = Uint8Array.of(0);

// ---- 1. the record in the records tree (contracts/src/smt.rs) ----

function keyBit(key, index) {
  return (key[index >> 3] >> (7 - (index & 7))) & 1;
}

function commonPrefixBits(a, b) {
  for (let i = 0; i < 32; i++) {
    const diff = a[i] ^ b[i];
    if (diff !== 0) return i * 8 + Math.clz32(diff) - 24;
  }
  return SMT_KEY_BITS;
}

/** The records root the path leads to for `key` holding `valueHash` (null: nothing). */
async function smtRoot(key, valueHash, proof) {
  need(proof && Array.isArray(proof.siblings), "the record path is missing");
  const siblings = proof.siblings.map((s, i) => fromHex(s, 32, "path hash " + i));
  need(siblings.length <= SMT_KEY_BITS, "the record path is longer than the tree is deep");
  const leaf = proof.leaf
    ? { key: fromHex(proof.leaf.key, 32, "leaf key"), value: fromHex(proof.leaf.value_hash, 32, "leaf value hash") }
    : null;
  let hash;
  if (valueHash) {
    need(leaf && sameBytes(leaf.key, key), "the path shows no record for this code, but the answer carries one");
    need(sameBytes(leaf.value, valueHash), "the record bytes are not the ones in the tree: they were altered");
    hash = await sha256(ZERO, leaf.key, leaf.value);
  } else if (leaf) {
    need(!sameBytes(leaf.key, key), "the path shows a record for this code, but the answer says there is none");
    need(commonPrefixBits(leaf.key, key) >= siblings.length, "the path ends at a record that is not on this code's path");
    hash = await sha256(ZERO, leaf.key, leaf.value);
  } else {
    hash = EMPTY_HASH;
  }
  for (let level = siblings.length - 1; level >= 0; level--) {
    hash = keyBit(key, level)
      ? await sha256(ONE, siblings[level], hash)
      : await sha256(ONE, hash, siblings[level]);
  }
  return hash;
}

// ---- 2. the records root in the state root (RFC 6962 / RFC 9162 2.1.3.2) ----

async function rfc6962Root(leafHash, index, count, path) {
  need(Number.isSafeInteger(index) && Number.isSafeInteger(count) && index >= 0 && index < count,
    "the position of the records leaf is not in the tree");
  let node = index;
  let last = count - 1;
  let hash = leafHash;
  for (const sibling of path) {
    need(last !== 0, "the state path is longer than the tree is tall");
    if (node % 2 === 1 || node === last) {
      hash = await sha256(ONE, sibling, hash);
      while (node % 2 === 0 && node !== 0) {
        node = Math.floor(node / 2);
        last = Math.floor(last / 2);
      }
    } else {
      hash = await sha256(ONE, hash, sibling);
    }
    node = Math.floor(node / 2);
    last = Math.floor(last / 2);
  }
  need(last === 0, "the state path is shorter than the tree is tall");
  return hash;
}

// ---- 3. the block header (node/src/block.rs: sha256(BLOCK_DOMAIN || borsh(header))) ----

function headerBytes(h) {
  return concat(
    borshString(h.chain_id, "chain id"),
    u64le(h.height, "height"),
    u64le(h.time_ms, "block time"),
    fromHex(h.proposer, 20, "proposer"),
    fromHex(h.parent_id, 32, "parent id"),
    fromHex(h.txs_root, 32, "txs root"),
    u32le(h.tx_count, "tx count"),
    fromHex(h.state_root, 32, "state root"),
  );
}

// ---- 4. the commit certificate ----

/** The genesis as served, and its hash computed here from the exact bytes. */
async function loadGenesis() {
  const response = await fetch("/genesis", { cache: "no-store", headers: { Accept: "application/json" } });
  need(response.ok, "the node did not serve its genesis (HTTP " + response.status + ")");
  const bytes = new Uint8Array(await response.arrayBuffer());
  need(bytes.length <= GENESIS_BYTES_MAX, "the genesis is larger than any genesis may be");
  const hash = await sha256(GENESIS_TAG, bytes);
  let genesis;
  try {
    genesis = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch (e) {
    throw new Broken("the genesis is not JSON");
  }
  need(genesis && Array.isArray(genesis.validators) && genesis.validators.length > 0, "the genesis lists no validators");
  return { genesis, hash: toHex(hash) };
}

/** The bytes a validator signs for a precommit (pinned in node/src/signing.rs). */
function precommitSignBytes(genesisHash, height, round, blockId, address) {
  return concat(VOTE_TAG, genesisHash, ONE, u64le(height, "certificate height"), ONE,
    u32le(round, "certificate round"), ONE, blockId, address);
}

async function ed25519Verify(publicKey, signature, message) {
  let key;
  try {
    key = await crypto.subtle.importKey("raw", publicKey, { name: "Ed25519" }, false, ["verify"]);
  } catch (e) {
    if (e && e.name === "NotSupportedError") throw new Unsupported("this browser cannot check Ed25519 signatures");
    throw new Broken("a validator key is not a valid Ed25519 key");
  }
  return crypto.subtle.verify({ name: "Ed25519" }, key, signature, message);
}

async function checkCertificate(chain, proof) {
  const { genesis } = chain;
  const genesisHash = fromHex(chain.hash, 32, "genesis hash");
  const header = proof.header;
  const cert = proof.certificate;
  need(header.chain_id === genesis.chain_id,
    "the block is from chain '" + header.chain_id + "', the genesis is for '" + genesis.chain_id + "'");
  need(cert && Array.isArray(cert.signatures), "the answer carries no signatures");
  need(cert.block_id === proof.block_id, "the certificate signs another block");
  need(cert.height === header.height, "the certificate is for height " + cert.height + ", the block is " + header.height);
  const validators = new Map();
  let total = 0n;
  for (const v of genesis.validators) {
    const publicKey = fromHex(v.public_key, 32, "validator key");
    need(Number.isSafeInteger(v.power) && v.power > 0, "a validator's power is not a number this page can read");
    const address = toHex((await sha256(publicKey)).subarray(0, 20));
    validators.set(address, { publicKey, power: BigInt(v.power), name: String(v.name) });
    total += BigInt(v.power);
  }
  const blockId = fromHex(cert.block_id, 32, "block id");
  const seen = new Set();
  let signed = 0n;
  for (const sig of cert.signatures) {
    const address = String(sig.address).toLowerCase();
    const validator = validators.get(address);
    need(validator, "a signature is by " + address + ", which is not a validator of this genesis");
    need(!seen.has(address), "validator " + validator.name + " signed twice");
    seen.add(address);
    const message = precommitSignBytes(genesisHash, cert.height, cert.round, blockId, fromHex(address, 20, "address"));
    const ok = await ed25519Verify(validator.publicKey, fromHex(sig.signature, 64, "signature"), message);
    need(ok, "the signature of validator " + validator.name + " does not verify: forged or altered");
    signed += validator.power;
  }
  need(signed * 3n > total * 2n,
    "the signatures carry " + signed + " of " + total + " voting power; more than two thirds is needed");
  return { signers: seen.size, validators: validators.size, signed, total };
}

// ---- 5. the record itself (borsh RecordLeaf) and the verdict it implies ----

class Reader {
  constructor(bytes) {
    this.bytes = bytes;
    this.at = 0;
  }
  take(n) {
    need(this.at + n <= this.bytes.length, "the record bytes end too early");
    const out = this.bytes.subarray(this.at, this.at + n);
    this.at += n;
    return out;
  }
  u8() { return this.take(1)[0]; }
  u32() { return new DataView(this.take(4).slice().buffer).getUint32(0, true); }
  u64() { return new DataView(this.take(8).slice().buffer).getBigUint64(0, true); }
  str() {
    const bytes = this.take(this.u32());
    try {
      return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
    } catch (e) {
      throw new Broken("the record holds text that is not UTF-8");
    }
  }
  option(read) {
    const tag = this.u8();
    need(tag === 0 || tag === 1, "the record bytes are not a record");
    return tag === 1 ? read() : null;
  }
  list(read) {
    const count = this.u32();
    need(count <= this.bytes.length - this.at, "the record bytes are not a record");
    const out = [];
    for (let i = 0; i < count; i++) out.push(read());
    return out;
  }
  choice(names) {
    const index = this.u8();
    need(index < names.length, "the record names a value this page does not know");
    return names[index];
  }
  end() { need(this.at === this.bytes.length, "the record bytes run on past the record"); }
}

function readSgtin(r) { return { gtin: r.u64(), serial: r.str() }; }

function readCode(r) {
  const tag = r.u8();
  if (tag === 0) return { item: readSgtin(r) };
  need(tag <= 3, "the record bytes are not a record");
  return { other: r.u64() }; // an SSCC, party or location: a number
}

function readContainerId(r) {
  const tag = r.u8();
  need(tag <= 1, "the record bytes are not a record");
  return tag === 0 ? { sscc: r.u64() } : { case: readSgtin(r) };
}

function readShipment(r) {
  return { from: r.str(), to: r.str(), previous_state: r.choice(LIFE_STATES) };
}

function readBottle(r) {
  return {
    state: r.choice(LIFE_STATES),
    flags: r.list(() => [r.choice(FLAGS), r.str()]),
    producer: r.str(),
    custodian: r.str(),
    owner: r.str(),
    parent: r.option(() => readContainerId(r)),
    shipment: r.option(() => readShipment(r)),
    sold: r.option(() => ({ store: r.str(), city: r.str(), time_ms: r.u64() })),
    history_len: r.u64(),
    replaced_by: r.option(() => readSgtin(r)),
    replaces: r.option(() => readSgtin(r)),
    lot: r.option(() => r.str()),
  };
}

function readContainer(r) {
  return {
    custodian: r.str(),
    owner: r.str(),
    state: r.choice(LIFE_STATES),
    parent: r.option(() => readContainerId(r)),
    shipment: r.option(() => readShipment(r)),
    children: r.u32(),
  };
}

function readAlert(r) {
  return { code: r.choice(ALERT_CODES), subject: readCode(r), actor_org: r.str(), height: r.u64(), time_ms: r.u64() };
}

function decodeLeaf(bytes) {
  const r = new Reader(bytes);
  const leaf = {
    code: readCode(r),
    bottle: r.option(() => readBottle(r)),
    container: r.option(() => readContainer(r)),
    alerts: { total: r.u64(), recent: r.list(() => readAlert(r)) },
  };
  r.end();
  return leaf;
}

/**
 * The verdict of a proven leaf for a scan that named `lot` (or null), with the bottle's
 * proven product (or null): `judge_scan` in contracts/src/provenance/verdict.rs. A lot other
 * than the recorded one is an ATTRIBUTE_MISMATCH, and a recorded lot on the product's
 * recalled lots is RECALLED; either makes a genuine verdict SUSPECT.
 */
function judgeScan(leaf, lot, product) {
  const verdict = judge(leaf);
  const recorded = leaf && leaf.bottle && leaf.bottle.lot;
  const hasLot = recorded !== null && recorded !== undefined;
  const mismatch = lot !== null && hasLot && lot !== recorded;
  const recalled = hasLot && product !== null
    && (product.recalled_lots || []).some((r) => r.lot === recorded);
  return (mismatch || recalled) && verdict.startsWith("GENUINE_") ? "SUSPECT" : verdict;
}

/** The verdict of a proven leaf: `judge` in contracts/src/provenance/verdict.rs. */
function judge(leaf) {
  if (!leaf) return "UNKNOWN";
  const attempted = leaf.alerts.recent.some((a) => a.code !== "DIVERTED");
  const bottle = leaf.bottle;
  if (!bottle) {
    if (leaf.container) return attempted ? "SUSPECT" : "GENUINE_UNSOLD";
    return "NOT_GENUINE";
  }
  const flagged = bottle.flags.some(([flag]) => flag === "RECALLED" || flag === "STOLEN" || flag === "HOLD");
  const out = bottle.state === "DESTROYED" || bottle.state === "VOID" || bottle.state === "ISSUED";
  if (attempted || flagged || out) return "SUSPECT";
  return bottle.state === "SOLD" ? "GENUINE_SOLD" : "GENUINE_UNSOLD";
}

function checkShown(answer, leaf, lot, product) {
  const proven = judgeScan(leaf, lot, product);
  const nodeLocal = (answer.alerts || []).some((a) => NODE_LOCAL_ALERTS.includes(a.code));
  const escalated = answer.verdict === "SUSPECT" && proven.startsWith("GENUINE_") && nodeLocal;
  need(answer.verdict === proven || escalated,
    "the node says " + answer.verdict + ", but the proven record says " + proven);
  const bottle = leaf && leaf.bottle;
  if (!bottle) return;
  need(answer.state === bottle.state, "the node shows state " + answer.state + ", the proven record says " + bottle.state);
  const shownFlags = (answer.flags || []).slice().sort().join(",");
  const provenFlags = bottle.flags.map(([f]) => f).sort().join(",");
  need(shownFlags === provenFlags, "the node shows flags [" + shownFlags + "], the proven record has [" + provenFlags + "]");
  need((answer.lot ?? null) === bottle.lot, "the node shows lot " + answer.lot + ", the proven record says " + bottle.lot);
  const sale = answer.sale;
  if (bottle.sold) {
    need(sale && sale.city === bottle.sold.city && Number.isSafeInteger(sale.time_ms)
      && BigInt(sale.time_ms) === bottle.sold.time_ms, "the sale shown is not the proven sale");
  } else {
    need(!sale, "the node shows a sale the proven record does not have");
  }
}

/**
 * The product name, volume and strength the node shows must be the proven entry of the
 * code's GTIN: its leaf (borsh of gtin, brand owner, name, volume, ABV, recalled lots) and
 * RFC 6962 path lead to the same state root as the record. A bottle with a lot needs its
 * product (`check_product` and the lot rule in node/src/proof.rs): only the product's
 * recalled lots say whether that lot is recalled. Returns the proven product, or null.
 */
async function checkProduct(answer, code, leaf) {
  const shown = answer.product || {};
  const showsMaster = ["name", "volume_ml", "abv_bp"].some((f) => shown[f] !== undefined);
  const lot = leaf && leaf.bottle ? leaf.bottle.lot : null;
  const proven = answer.proof.product;
  if (!proven) {
    need(!showsMaster, "the node shows product data without a proof");
    need(lot === null || lot === undefined,
      "the node leaves out the product of a bottle of lot " + lot + ", so its recall status is unproven");
    return null;
  }
  const p = await proveProduct(proven, code.gtin, answer.proof.header.state_root);
  if (showsMaster) {
    need(shown.name === p.name && shown.volume_ml === p.volume_ml && shown.abv_bp === p.abv_bp,
      "the product shown is not the proven product");
  }
  return p;
}

/**
 * A product entry (`{product, proof}`) hashed up its RFC 6962 path to `stateRootHex`: the
 * leaf is the borsh of gtin, brand owner, name, volume, ABV and recalled lots
 * (contracts/src/product.rs). Returns the proven product.
 */
async function proveProduct(proven, gtin, stateRootHex) {
  need(proven && proven.product && proven.proof, "the product proof is incomplete");
  const p = proven.product;
  need(/^[0-9]{14}$/.test(String(p.gtin)) && BigInt(p.gtin) === gtin, "the proven product is another GTIN");
  need(Number.isInteger(p.abv_bp) && p.abv_bp >= 0 && p.abv_bp <= 0xffff, "the ABV is not a 16-bit number");
  const abv = new Uint8Array(2);
  new DataView(abv.buffer).setUint16(0, p.abv_bp, true);
  const recalls = p.recalled_lots || [];
  need(Array.isArray(recalls), "the recalled lots are not a list");
  const bytes = concat(u64le(Number(p.gtin), "GTIN"), borshString(p.brand_owner, "brand owner"),
    borshString(p.name, "product name"), u32le(p.volume_ml, "volume"), abv,
    u32le(recalls.length, "recalled lots"),
    ...recalls.map((r) => concat(borshString(r.lot, "recalled lot"), borshString(r.by, "recalled by"),
      u64le(r.since_ms, "recall time"))));
  const leafHash = await sha256(ZERO, PRODUCT_LEAF_TAG, bytes);
  const path = (proven.proof.state_path || []).map((s, i) => fromHex(s, 32, "product path hash " + i));
  const root = await rfc6962Root(leafHash, proven.proof.state_leaf_index, proven.proof.state_leaf_count, path);
  need(sameBytes(root, fromHex(stateRootHex, 32, "state root")),
    "the product's path does not lead to the block's state root");
  return p;
}

/** Whether `bytes` starts with `tag`. */
function startsWith(bytes, tag) {
  return bytes.length >= tag.length && tag.every((b, i) => bytes[i] === b);
}

/** The GTIN (a BigInt) of a product leaf's bytes, or null for a leaf of another kind. */
function productLeafGtin(bytes) {
  if (!startsWith(bytes, PRODUCT_LEAF_TAG) || bytes.length < PRODUCT_LEAF_TAG.length + 8) return null;
  return new DataView(bytes.buffer, bytes.byteOffset + PRODUCT_LEAF_TAG.length, 8).getBigUint64(0, true);
}

/**
 * Checks that no product of `gtin` (a BigInt) is a leaf of the state root, as
 * `verify_product_absence` in contracts/src/product.rs does: two adjacent leaves, the first
 * an org's or a product's of a smaller GTIN, the second a product's of a larger GTIN or the
 * anchors'. The state root lists orgs, then products in GTIN order, then the anchors, so no
 * leaf of `gtin` fits between them.
 */
async function proveProductAbsence(absence, gtin, stateRootHex) {
  need(absence && absence.before && absence.after, "the absence proof is incomplete");
  const stateRoot = fromHex(stateRootHex, 32, "state root");
  const leaves = [];
  for (const [name, leaf] of [["first", absence.before], ["second", absence.after]]) {
    const bytes = fromHex(leaf.leaf_bytes, undefined, "the " + name + " leaf");
    const path = (leaf.state_path || []).map((s, i) => fromHex(s, 32, name + " leaf path hash " + i));
    const root = await rfc6962Root(await sha256(ZERO, bytes), leaf.state_leaf_index, absence.state_leaf_count, path);
    need(sameBytes(root, stateRoot), "the " + name + " leaf's path does not lead to the block's state root");
    leaves.push(bytes);
  }
  need(Number.isSafeInteger(absence.before.state_leaf_index)
    && absence.after.state_leaf_index === absence.before.state_leaf_index + 1, "the two leaves are not adjacent");
  const low = productLeafGtin(leaves[0]);
  need(startsWith(leaves[0], ORG_LEAF_TAG) || (low !== null && low < gtin),
    "the first leaf is neither an org nor a product of a smaller GTIN");
  const high = productLeafGtin(leaves[1]);
  need(startsWith(leaves[1], ANCHORS_LEAF_TAG) || (high !== null && high > gtin),
    "the second leaf is neither a product of a larger GTIN nor the anchors");
}

/** Whether a recall the node shows (`{by, lot, since_ms}` or null) is the proven one. */
function sameRecall(shown, proven) {
  if (!proven) return shown === null || shown === undefined;
  return !!shown && shown.lot === proven.lot && shown.by === proven.by && shown.since_ms === proven.since_ms;
}

// ---- the code this page was opened for ----

/**
 * The code in the page's own address, `/01/{gtin}[/10/{lot}]/21/{serial}`, with the lot if
 * the address names one; null if not that form.
 */
function codeOfAddress(pathname) {
  const m = /^\/01\/(\d{8}|\d{12,14})(?:\/10\/([^/]+))?\/21\/([^/]+)$/.exec(pathname);
  if (!m) return null;
  let serial, lot;
  try {
    serial = decodeURIComponent(m[3]);
    lot = m[2] === undefined ? null : decodeURIComponent(m[2]);
  } catch (e) {
    return null;
  }
  const gtin = m[1].padStart(14, "0");
  return { gtin: BigInt(gtin), serial, lot, elementString: "(01)" + gtin + "(21)" + serial.replaceAll("(", "\\(") };
}

/**
 * The product in the page's own address, `/01/{gtin}[/10/{lot}]` (a label with no serial),
 * with the lot if the address names one; null if not that form.
 */
function productOfAddress(pathname) {
  const m = /^\/01\/(\d{8}|\d{12,14})(?:\/10\/([^/]+))?$/.exec(pathname);
  if (!m) return null;
  let lot;
  try {
    lot = m[2] === undefined ? null : decodeURIComponent(m[2]);
  } catch (e) {
    return null;
  }
  return { gtin: BigInt(m[1].padStart(14, "0")), lot };
}

// ---- the steps ----

const STEPS = [
  { id: "record", title: "The bottle's record is in the chain's records tree" },
  { id: "state", title: "The records tree is part of the signed block's state" },
  { id: "header", title: "The block header hashes to the signed block id" },
  { id: "signatures", title: "More than two thirds of the validators signed the block" },
  { id: "shown", title: "The verdict, state, lot and sale shown here match the proven record" },
];

/** Step 3 of either check: the header hashes to the block id the certificate signs. */
function headerStep(proof) {
  return async () => {
    const id = await sha256(BLOCK_DOMAIN, headerBytes(proof.header));
    need(toHex(id) === proof.block_id, "the header hashes to " + toHex(id).slice(0, 16) + "..., not to the block id");
    return "block id " + proof.block_id.slice(0, 16) + "...";
  };
}

/** Step 4 of either check: the validators of `GET /genesis` signed the block. */
function signaturesStep(proof, facts, pinnedGenesis) {
  return async () => {
    const chain = await loadGenesis();
    facts.genesisHash = chain.hash;
    const outcome = await checkCertificate(chain, proof);
    if (pinnedGenesis) {
      need(pinnedGenesis === chain.hash,
        "this link expects the chain with genesis hash " + pinnedGenesis + ", the node's chain is " + chain.hash);
    }
    facts.signers = outcome.signers;
    facts.validators = outcome.validators;
    return "signed by " + outcome.signers + " of " + outcome.validators + " validators (" + outcome.signed
      + " of " + outcome.total + " voting power) of the chain whose genesis hash is " + chain.hash
      + (pinnedGenesis ? ", the one this link expects" : "");
  };
}

/**
 * Checks a bottle's answer (the five STEPS); `report(index, status, detail)` is told each
 * outcome. Returns the facts shown at the end.
 */
async function checkAnswer(answer, pinnedGenesis, report) {
  const proof = answer.proof;
  const facts = { height: proof.height, blockId: proof.block_id, chainId: proof.chain_id };
  const code = codeOfAddress(location.pathname);
  let leaf = null;
  const steps = [
    async () => {
      need(code, "this page checks only addresses of the form /01/{gtin}[/10/{lot}]/21/{serial}");
      need(answer.element_string === code.elementString,
        "the answer is about " + answer.element_string + ", not about " + code.elementString);
      const key = await sha256(RECORD_KEY_DOMAIN, UTF8.encode(code.elementString));
      const hasRecord = proof.record_hex !== null && proof.record_hex !== undefined;
      const bytes = hasRecord ? fromHex(proof.record_hex, undefined, "the record") : null;
      const root = await smtRoot(key, bytes && (await sha256(bytes)), proof.record_proof.smt);
      need(sameBytes(root, fromHex(proof.record_proof.records_root, 32, "records root")),
        "the record path does not lead to the records root");
      if (bytes) {
        leaf = decodeLeaf(bytes);
        const item = leaf.code.item;
        need(item && item.gtin === code.gtin && item.serial === code.serial, "the record is about another code");
      }
      facts.key = toHex(key);
      return leaf ? "record of " + code.elementString : "the chain proves it holds no record of " + code.elementString;
    },
    async () => {
      const rp = proof.record_proof;
      need(rp.state_leaf_count > 0 && rp.state_leaf_index + 1 === rp.state_leaf_count,
        "the records leaf must be the last of the state's leaves");
      const recordsRoot = fromHex(rp.records_root, 32, "records root");
      const leafHash = await sha256(ZERO, RECORDS_LEAF_TAG, recordsRoot);
      const path = (rp.state_path || []).map((s, i) => fromHex(s, 32, "state path hash " + i));
      const root = await rfc6962Root(leafHash, rp.state_leaf_index, rp.state_leaf_count, path);
      need(sameBytes(root, fromHex(proof.header.state_root, 32, "state root")),
        "the state path does not lead to the block's state root");
      return "state root " + proof.header.state_root.slice(0, 16) + "... of block " + proof.header.height;
    },
    headerStep(proof),
    signaturesStep(proof, facts, pinnedGenesis),
    async () => {
      const product = await checkProduct(answer, code, leaf);
      checkShown(answer, leaf, code.lot, product);
      return "verdict " + answer.verdict + (product ? "; product " + product.name : "");
    },
  ];
  return runSteps(steps, facts, report);
}

/**
 * Runs `steps` in order; `report(index, status, detail)` is told each outcome, with status
 * "ok", "failed", "unsupported" or "skipped". Returns `facts` with the outcome.
 */
async function runSteps(steps, facts, report) {
  let failed = false;
  let unsupported = false;
  for (let i = 0; i < steps.length; i++) {
    if (failed) {
      report(i, "skipped", "not checked, because an earlier step failed");
      continue;
    }
    try {
      report(i, "ok", await steps[i]());
    } catch (e) {
      if (e instanceof Unsupported) {
        unsupported = true;
        report(i, "unsupported", e.message);
      } else {
        failed = true;
        facts.failedStep = i;
        report(i, "failed", e instanceof Broken ? e.message : "the proof could not be read (" + e + ")");
      }
    }
  }
  facts.outcome = failed ? "failed" : unsupported ? "partial" : "ok";
  return facts;
}

// ---- a product's answer: `/01/{gtin}` or `/01/{gtin}/10/{lot}` ----

const PRODUCT_STEPS = [
  { id: "product", title: "The product's entry is part of the signed block's state" },
  { id: "header", title: "The block header hashes to the signed block id" },
  { id: "signatures", title: "More than two thirds of the validators signed the block" },
  { id: "shown", title: "The product, its recalled lots and the lot's status shown here match the proven entry" },
];

const ABSENCE_STEPS = [
  { id: "absence", title: "The signed block's state has no product of this GTIN" },
  { id: "header", title: "The block header hashes to the signed block id" },
  { id: "signatures", title: "More than two thirds of the validators signed the block" },
  { id: "shown", title: "The answer is about the GTIN in this page's address" },
];

/**
 * Checks the answer for a GTIN nobody registered, as `verify_product_answer` in
 * node/src/proof.rs does: the absence up to the state root for the GTIN in this page's own
 * address, the header and the signatures. Returns the facts shown.
 */
async function checkAbsenceAnswer(answer, pinnedGenesis, report) {
  const proof = answer.proof;
  const facts = { height: proof.height, blockId: proof.block_id, chainId: proof.chain_id };
  const asked = productOfAddress(location.pathname);
  const steps = [
    async () => {
      need(asked, "this page checks only addresses of the form /01/{gtin}[/10/{lot}]");
      await proveProductAbsence(proof.absence, asked.gtin, proof.header.state_root);
      return "no product " + String(asked.gtin).padStart(14, "0") + " in state root "
        + proof.header.state_root.slice(0, 16) + "... of block " + proof.header.height;
    },
    headerStep(proof),
    signaturesStep(proof, facts, pinnedGenesis),
    async () => {
      need(/^[0-9]{14}$/.test(String(answer.gtin)) && BigInt(answer.gtin) === asked.gtin,
        "the answer is about another GTIN");
      return "GTIN " + answer.gtin;
    },
  ];
  return runSteps(steps, facts, report);
}

/**
 * Checks a product's answer, as `verify_product_answer` in node/src/proof.rs does: the
 * product entry up to the state root, what the answer shows against it (the lot is the one
 * in this page's own address), the header and the signatures. Returns the facts shown.
 */
async function checkProductAnswer(answer, pinnedGenesis, report) {
  const proof = answer.proof;
  const facts = { height: proof.height, blockId: proof.block_id, chainId: proof.chain_id };
  const asked = productOfAddress(location.pathname);
  let product = null;
  const steps = [
    async () => {
      need(asked, "this page checks only addresses of the form /01/{gtin}[/10/{lot}]");
      product = await proveProduct(proof.product, asked.gtin, proof.header.state_root);
      return "product " + product.gtin + " (" + product.name + ") in state root "
        + proof.header.state_root.slice(0, 16) + "... of block " + proof.header.height;
    },
    headerStep(proof),
    signaturesStep(proof, facts, pinnedGenesis),
    async () => {
      const shown = answer.product || {};
      need(shown.gtin === product.gtin && answer.gtin === product.gtin, "the answer is about another GTIN");
      need(shown.name === product.name && shown.volume_ml === product.volume_ml && shown.abv_bp === product.abv_bp,
        "the product shown is not the proven product");
      const proven = product.recalled_lots || [];
      const listed = answer.recalled_lots || [];
      need(Array.isArray(listed) && listed.length === proven.length && listed.every((r, i) => sameRecall(r, proven[i])),
        "the recalled lots shown are not the proven product's");
      if (asked.lot === null) {
        need(answer.lot === undefined || answer.lot === null, "the answer names a lot this address does not");
        return proven.length + (proven.length === 1 ? " lot" : " lots") + " recalled";
      }
      const status = answer.lot;
      need(status && status.lot === asked.lot, "the answer is about another lot than " + asked.lot);
      const recall = proven.find((r) => r.lot === asked.lot) || null;
      need(status.recalled === (recall !== null) && sameRecall(status.recall, recall),
        "the node says lot " + asked.lot + (status.recalled ? " is" : " is not")
        + " recalled, the proven product says it" + (recall ? " is" : " is not"));
      return "lot " + asked.lot + (recall ? " recalled" : " not recalled");
    },
  ];
  return runSteps(steps, facts, report);
}
