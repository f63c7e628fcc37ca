#!/usr/bin/env python3
"""Re-runs a drawn lottery from a node's exported data, independently of the Rust code.

    python3 scripts/lottery_audit.py --rpc http://127.0.0.1:26650 --lottery 1

Downloads `GET /lottery/{id}` (rules and the committed values) and the public dataset
`GET /lottery/{id}/dataset` (borsh, docs/lottery-spec.md section 9), then recomputes with
hashlib only, using the draw of `lottery_reference.py`: every leaf and status hash, the
entries and status roots, the seed from the committed signature, every pool's ranking and
the results root, and compares each with the committed value. It trusts the node for the
committed values; `jiu lottery audit` also checks them against the genesis (quorum
certificate, state root, and the seed's BLS signature, which `beacon_reference.py` checks
independently). Exit 0 when everything matches, 1 on a mismatch, 2 when the data cannot be
read.
"""

import argparse
import json
import struct
import sys
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import lottery_reference as ref  # noqa: E402

ENTRY_BYTES = 8 + 4 + 4 + 4 + 32 + 32 + 8 + 1 + 2


def fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=120) as response:
        return response.read()


def parse_dataset(data: bytes) -> tuple[int, list[dict], dict]:
    """borsh(Dataset): lottery id, entries, exclusions (all little-endian)."""
    lottery_id, count = struct.unpack_from("<QI", data, 0)
    at = 12
    entries = []
    for _ in range(count):
        lid, pool, batch, index = struct.unpack_from("<QIII", data, at)
        nullifier = data[at + 20:at + 52]
        commitment = data[at + 52:at + 84]
        received, tier, weight = struct.unpack_from("<QBH", data, at + 84)
        entries.append({
            "lottery_id": lid, "pool_id": pool, "batch_no": batch, "index": index,
            "nullifier": nullifier.hex(), "commitment": commitment.hex(),
            "received_at_ms": received, "tier": tier, "weight": weight,
        })
        at += ENTRY_BYTES
    (excluded,) = struct.unpack_from("<I", data, at)
    at += 4
    exclusions = {}
    for _ in range(excluded):
        batch, index = struct.unpack_from("<II", data, at)
        exclusions[(batch, index)] = data[at + 8:at + 40]
        at += 40
    if at != len(data):
        raise ValueError(f"{len(data) - at} trailing bytes")
    return lottery_id, entries, exclusions


def audit(answer: dict, dataset: bytes) -> int:
    committed = answer["committed"]
    rules = answer["rules"]["draw"]
    lottery_id, entries, exclusions = parse_dataset(dataset)
    check = ref.Checker()
    check.eq("lottery id", lottery_id, answer["lottery_id"])
    check.eq("entries", len(entries), committed["entries_count"])
    seed = ref.sha256(ref.SEED_TAG, bytes.fromhex(answer["seed"]["signature"]))
    check.eq("seed", seed.hex(), committed["seed"])
    for e in entries:
        e["_leaf"] = ref.sha256(b"\x00", ref.LEAF_TAG, ref.leaf_bytes(e))
        reason = exclusions.get((e["batch_no"], e["index"]), bytes(32))
        e["_eligible"] = reason == bytes(32)
        e["_status"] = ref.sha256(b"\x00", ref.STATUS_TAG, e["_leaf"],
                                  bytes([1 if e["_eligible"] else 0]), reason)
        e["_score"] = ref.score(seed, e, e["_leaf"]) if e["_eligible"] else None
    _, entries_root = ref.two_level(entries, lambda e: e["_leaf"])
    _, status_root = ref.two_level(entries, lambda e: e["_status"])
    check.eq("entries root", entries_root.hex(), committed["entries_root"])
    check.eq("status root", status_root.hex(), committed["status_root"])
    by_pool: dict[int, list[dict]] = {}
    for e in entries:
        by_pool.setdefault(e["pool_id"], []).append(e)
    pool_leaves = []
    winners = 0
    for pool in rules["pools"]:
        pid = pool["pool_id"]
        members = by_pool.get(pid, [])
        eligible = [e for e in members if e["_eligible"]]
        ranked = sorted(eligible, key=lambda e: (e["tier"], e["_score"], e["_leaf"]))
        ranked = ranked[: pool["quota"] + pool["waitlist_size"]]
        winners += min(pool["quota"], len(ranked))
        ranked_hash = ref.sha256(ref.RANKED_TAG, *(bytes([e["tier"]]) + e["_score"] + e["_leaf"]
                                                   for e in ranked))
        pool_leaves.append(ref.sha256(
            b"\x00", ref.RESULT_TAG, ref.be(rules["lottery_id"], 8), ref.be(pid, 4),
            ref.be(pool["quota"], 4), ref.be(pool["waitlist_size"], 4),
            ref.be(len(members), 4), ref.be(len(eligible), 4), ranked_hash))
    results_root = ref.merkle_root(pool_leaves)
    check.eq("results root", results_root.hex(), committed["results_root"])
    if check.mismatches:
        print(f"FAIL: {check.mismatches} of {check.checked} values differ")
        return 1
    print(f"ok: lottery {lottery_id}: {len(entries)} entries, {len(exclusions)} excluded, "
          f"{len(rules['pools'])} pools, {winners} winners; results root {results_root.hex()} "
          f"matches the chain")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rpc", default="http://127.0.0.1:26650")
    parser.add_argument("--lottery", type=int, required=True)
    args = parser.parse_args()
    try:
        answer = json.loads(fetch(f"{args.rpc}/lottery/{args.lottery}"))
        dataset = fetch(f"{args.rpc}/lottery/{args.lottery}/dataset")
        if answer.get("seed") is None or answer["committed"].get("stage") != "drawn":
            print(f"lottery {args.lottery} is not drawn yet")
            return 2
        return audit(answer, dataset)
    except (OSError, ValueError, KeyError, struct.error) as error:
        print(f"cannot read the lottery: {error}")
        return 2


if __name__ == "__main__":
    sys.exit(main())
