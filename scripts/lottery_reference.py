#!/usr/bin/env python3
"""Independent re-implementation of the jiu lottery draw (docs/lottery-spec.md).

Reads the shared test vectors (default: tests/vectors/lottery/vectors.json), recomputes
from each lottery's inputs the leaf bytes and hashes, status hashes, batch roots, entries and
status roots, seed, scores, per-pool winners and waitlists, pool result leaves and results
root, and compares every value with the file. Exits 1 on any mismatch, 0 otherwise.

Written from the specification, not from the Rust code, and deliberately naive: full sorts
instead of partial selection, recursion instead of cached trees. Python 3.11, hashlib only.
"""

import hashlib
import json
import sys
from pathlib import Path

LEAF_TAG = b"mtl/leaf/v1"
STATUS_TAG = b"mtl/status/v1"
SEED_TAG = b"mtl/seed/v1"
SCORE_TAG = b"mtl/score/v1"
RANKED_TAG = b"mtl/ranked/v1"
RESULT_TAG = b"mtl/result/v1"


def sha256(*parts: bytes) -> bytes:
    h = hashlib.sha256()
    for part in parts:
        h.update(part)
    return h.digest()


def be(value: int, width: int) -> bytes:
    return value.to_bytes(width, "big")


# RFC 6962 Merkle tree over leaf hashes (the 0x00 prefix is already inside each leaf hash).
def merkle_root(leaves: list[bytes]) -> bytes:
    if not leaves:
        return sha256(b"")
    if len(leaves) == 1:
        return leaves[0]
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return sha256(b"\x01", merkle_root(leaves[:k]), merkle_root(leaves[k:]))


def leaf_bytes(e: dict) -> bytes:
    return b"".join([
        be(e["lottery_id"], 8), be(e["pool_id"], 4), be(e["batch_no"], 4), be(e["index"], 4),
        bytes.fromhex(e["nullifier"]), bytes.fromhex(e["commitment"]),
        be(e["received_at_ms"], 8), be(e["tier"], 1), be(e["weight"], 2),
    ])


def score(seed: bytes, e: dict, leaf_hash: bytes) -> bytes:
    prefix = SCORE_TAG + seed + be(e["lottery_id"], 8) + be(e["pool_id"], 4) + leaf_hash
    if e["weight"] == 1:
        return sha256(prefix)
    return min(sha256(prefix, be(j, 2)) for j in range(e["weight"]))


def two_level(entries: list[dict], leaf_of) -> tuple[list[bytes], bytes]:
    """Batch roots and the root over them; `entries` are in (batch, index) order."""
    batches: dict[int, list[bytes]] = {}
    for e in entries:
        batches.setdefault(e["batch_no"], []).append(leaf_of(e))
    roots = [merkle_root(batches[b]) for b in range(len(batches))]
    return roots, merkle_root(roots)


class Checker:
    def __init__(self) -> None:
        self.mismatches = 0
        self.checked = 0

    def eq(self, what: str, got, expected) -> None:
        self.checked += 1
        if got != expected:
            self.mismatches += 1
            print(f"MISMATCH {what}: computed {got!r}, file says {expected!r}")


def check_lottery(lottery: dict, check: Checker) -> None:
    name = lottery["name"]
    rules = lottery["rules"]
    expected = lottery["expected"]
    seed = sha256(SEED_TAG, bytes.fromhex(lottery["signature"]))
    check.eq(f"{name} seed", seed.hex(), expected["seed"])

    entries = lottery["entries"]
    for e, s, want in zip(entries, lottery["status"], expected["entries"], strict=True):
        where = f"{name} entry {e['batch_no']}/{e['index']}"
        raw = leaf_bytes(e)
        e["_leaf"] = sha256(b"\x00", LEAF_TAG, raw)
        e["_eligible"] = s["eligible"]
        e["_status"] = sha256(b"\x00", STATUS_TAG, e["_leaf"], bytes([1 if s["eligible"] else 0]),
                              bytes.fromhex(s["reason_hash"]))
        e["_score"] = score(seed, e, e["_leaf"]) if s["eligible"] else None
        check.eq(f"{where} leaf bytes", raw.hex(), want["leaf_bytes"])
        check.eq(f"{where} leaf hash", e["_leaf"].hex(), want["leaf_hash"])
        check.eq(f"{where} status hash", e["_status"].hex(), want["status_hash"])
        check.eq(f"{where} score", e["_score"] and e["_score"].hex(), want["score"])

    ordered = sorted(entries, key=lambda e: (e["batch_no"], e["index"]))
    batch_roots, entries_root = two_level(ordered, lambda e: e["_leaf"])
    status_roots, status_root = two_level(ordered, lambda e: e["_status"])
    check.eq(f"{name} batch roots", [r.hex() for r in batch_roots], expected["batch_roots"])
    check.eq(f"{name} entries root", entries_root.hex(), expected["entries_root"])
    check.eq(f"{name} status batch roots", [r.hex() for r in status_roots],
             expected["status_batch_roots"])
    check.eq(f"{name} status root", status_root.hex(), expected["status_root"])

    pool_leaves = []
    for pool, want in zip(rules["pools"], expected["pools"], strict=True):
        pid = pool["pool_id"]
        members = [e for e in entries if e["pool_id"] == pid]
        eligible = [e for e in members if e["_eligible"]]
        ranked = sorted(eligible, key=lambda e: (e["tier"], e["_score"], e["_leaf"]))
        ranked = ranked[: pool["quota"] + pool["waitlist_size"]]
        winners, waitlist = ranked[: pool["quota"]], ranked[pool["quota"]:]
        ranked_hash = sha256(RANKED_TAG, *(bytes([e["tier"]]) + e["_score"] + e["_leaf"]
                                           for e in ranked))
        leaf = sha256(b"\x00", RESULT_TAG, be(rules["lottery_id"], 8), be(pid, 4),
                      be(pool["quota"], 4), be(pool["waitlist_size"], 4), be(len(members), 4),
                      be(len(eligible), 4), ranked_hash)
        pool_leaves.append(leaf)
        where = f"{name} pool {pid}"
        check.eq(f"{where} id", pid, want["pool_id"])
        check.eq(f"{where} entries", len(members), want["entries_count"])
        check.eq(f"{where} eligible", len(eligible), want["eligible_count"])
        check.eq(f"{where} winners", [[e["batch_no"], e["index"]] for e in winners],
                 want["winners"])
        check.eq(f"{where} waitlist", [[e["batch_no"], e["index"]] for e in waitlist],
                 want["waitlist"])
        check.eq(f"{where} ranked hash", ranked_hash.hex(), want["ranked_hash"])
        check.eq(f"{where} leaf hash", leaf.hex(), want["leaf_hash"])
    check.eq(f"{name} results root", merkle_root(pool_leaves).hex(), expected["results_root"])


def main() -> int:
    default = Path(__file__).resolve().parent.parent / "tests/vectors/lottery/vectors.json"
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else default
    document = json.loads(path.read_text())
    if document.get("format") != "jiu-lottery-vectors/v1":
        print(f"unknown vectors format {document.get('format')!r}")
        return 1
    check = Checker()
    for lottery in document["lotteries"]:
        check_lottery(lottery, check)
    lotteries = len(document["lotteries"])
    if check.mismatches:
        print(f"FAIL: {check.mismatches} of {check.checked} values differ ({path})")
        return 1
    print(f"ok: {check.checked} values in {lotteries} lotteries match ({path})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
