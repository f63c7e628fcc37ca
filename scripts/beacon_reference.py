#!/usr/bin/env python3
"""Independent check of the lottery seed's threshold BLS signature (docs/lottery-spec.md,
"Checking the seed signature independently"; scheme in docs/lottery-beacon.md).

Reads beacon vectors (default: contracts/beacon/tests/vectors/beacon.json; one vector object
or a list of them) and for each vector:
- re-encodes the seed message from its fields and compares it with `seed_message_hex`;
- decodes the group key, commitments, signature and partials (ZCash compressed encoding;
  refuses non-canonical bytes, the identity and points outside the prime-order subgroup);
- checks the signature against the group key: e(sigma, g2) == e(H(m), PK_G), H the RFC 9380
  hash to G1 (BLS12381G1_XMD:SHA-256_SSWU_RO_) under the seed DST;
- checks each partial against its share key, the public polynomial at x = index + 1, and
  that Lagrange interpolation at 0 of `threshold` partials gives the signature;
- checks that a tampered signature and a tampered message do NOT verify;
- recomputes seed = SHA-256("mtl/seed/v1" || sigma) and compares it.

Prints one line per vector. Exits 0 when everything matches, 1 on any mismatch, 2 when the
input cannot be read or checked, 3 when py_ecc is not installed (callers treat 3 as skipped).

Written from the specification, not from the Rust code. Curve arithmetic and hash-to-curve
come from py_ecc (`pip install py_ecc`), an implementation independent of blst; the min-sig
verification is assembled from its low-level functions because py_ecc's own BLS API is
min-pk (keys on G1). py_ecc is slow: about 0.14 s per pairing check.
"""

import hashlib
import json
import sys
import time
import traceback
from pathlib import Path

try:
    from py_ecc.bls.hash_to_curve import hash_to_G1
    from py_ecc.bls.point_compression import (
        compress_G1,
        compress_G2,
        decompress_G1,
        decompress_G2,
    )
    from py_ecc.optimized_bls12_381 import (
        FQ12,
        G1,
        G2,
        Z2,
        add,
        curve_order,
        final_exponentiate,
        is_inf,
        multiply,
        neg,
        normalize,
        pairing,
    )

    PY_ECC_MISSING = None
except ImportError as error:
    PY_ECC_MISSING = error

SEED_MESSAGE_TAG = b"mtl/seed-msg/v1"
SEED_TAG = b"mtl/seed/v1"
SEED_SIGNATURE_DST = b"JIU-MTL-SEED-V01-CS01-with-BLS12381G1_XMD:SHA-256_SSWU_RO_"

EXIT_MISMATCH = 1
EXIT_UNUSABLE = 2
EXIT_SKIPPED = 3

# RFC 9380 appendix J.9.1 (BLS12381G1_XMD:SHA-256_SSWU_RO_), msg = "": pins py_ecc's
# hash to G1 to the standard before anything depends on it.
RFC9380_DST = b"QUUX-V01-CS02-with-BLS12381G1_XMD:SHA-256_SSWU_RO_"
RFC9380_EMPTY_X = int(
    "052926add2207b76ca4fa57a8734416c8dc95e24501772c814278700eed6d1e4"
    "e8cf62d9c09db0fac349612b759e79a1", 16)
RFC9380_EMPTY_Y = int(
    "08ba738453bfed09cb546dbb0783dbb3a5f1f566ed67bb6be0e8c67e2e81a4cc"
    "68ee29813bb7994998f3eae0c9c6a265", 16)


class BadPoint(ValueError):
    pass


def g1_from_hex(text: str):
    """A G1 point from 48 compressed bytes: canonical, not the identity, in the subgroup."""
    data = bytes.fromhex(text)
    if len(data) != 48:
        raise BadPoint(f"G1 point is {len(data)} bytes, expected 48")
    z = int.from_bytes(data, "big")
    try:
        point = decompress_G1(z)
    except ValueError as error:
        raise BadPoint(f"G1 point does not decode: {error}") from error
    return checked(point, compress_G1(point) == z)


def g2_from_hex(text: str):
    """A G2 point from 96 compressed bytes (imaginary part of x first), checked as for G1."""
    data = bytes.fromhex(text)
    if len(data) != 96:
        raise BadPoint(f"G2 point is {len(data)} bytes, expected 96")
    z = (int.from_bytes(data[:48], "big"), int.from_bytes(data[48:], "big"))
    try:
        point = decompress_G2(z)
    except ValueError as error:
        raise BadPoint(f"G2 point does not decode: {error}") from error
    return checked(point, tuple(compress_G2(point)) == z)


def checked(point, canonical: bool):
    if is_inf(point):
        raise BadPoint("point is the identity")
    if not canonical:
        raise BadPoint("point encoding is not canonical")
    if not is_inf(multiply(point, curve_order)):
        raise BadPoint("point is not in the prime-order subgroup")
    return point


def g1_hex(point) -> str:
    return compress_G1(point).to_bytes(48, "big").hex()


def hash_message(message: bytes, dst: bytes):
    return hash_to_G1(message, dst, hashlib.sha256)


def verifies(sigma, message_point, key) -> bool:
    """e(sigma, g2) == e(H(m), key), as e(sigma, g2) * e(H(m), -key) == 1 with one final
    exponentiation (py_ecc's pairing takes the G2 point first)."""
    product = (pairing(G2, sigma, final_exponentiate=False)
               * pairing(neg(key), message_point, final_exponentiate=False))
    return final_exponentiate(product) == FQ12.one()


def threshold(n: int) -> int:
    """t = n - f with f = floor((n - 1) / 3): the BFT quorum."""
    return n - (n - 1) // 3


def seed_message(fields: dict) -> bytes:
    chain_id = fields["chain_id"].encode("utf-8")
    if not 1 <= len(chain_id) <= 255:
        raise ValueError(f"chain id is {len(chain_id)} bytes, allowed 1..=255")
    hashes = [bytes.fromhex(fields[k]) for k in ("rules_hash", "entries_root", "status_root")]
    if any(len(h) != 32 for h in hashes):
        raise ValueError("a seed message hash is not 32 bytes")
    return (SEED_MESSAGE_TAG + bytes([len(chain_id)]) + chain_id
            + fields["lottery_id"].to_bytes(8, "big") + b"".join(hashes))


def share_key(commitments: list, index: int):
    """The public polynomial at x = index + 1: sum of C_k * x^k."""
    x = index + 1
    key = Z2
    for k, commitment in enumerate(commitments):
        key = add(key, multiply(commitment, pow(x, k, curve_order)))
    return key


def interpolate_at_zero(partials: list):
    """sum of lambda_i * sigma_i over (index, point) pairs, x_i = index + 1."""
    xs = [index + 1 for index, _ in partials]
    total = None
    for i, (_, point) in enumerate(partials):
        numerator, denominator = 1, 1
        for j, xj in enumerate(xs):
            if j != i:
                numerator = numerator * xj % curve_order
                denominator = denominator * (xj - xs[i]) % curve_order
        term = multiply(point, numerator * pow(denominator, -1, curve_order) % curve_order)
        total = term if total is None else add(total, term)
    return total


class Checker:
    def __init__(self) -> None:
        self.failures: list[str] = []
        self.checked = 0
        self.pairings = 0

    def expect(self, what: str, ok: bool, detail: str = "") -> bool:
        self.checked += 1
        if not ok:
            self.failures.append(what)
            print(f"MISMATCH {what}{': ' + detail if detail else ''}")
        return ok

    def eq(self, what: str, got, expected) -> bool:
        return self.expect(what, got == expected, f"computed {got!r}, file says {expected!r}")

    def point(self, what: str, decode, text: str):
        try:
            return decode(text)
        except (BadPoint, ValueError) as error:
            self.expect(what, False, str(error))
            return None

    def verifies(self, sigma, message_point, key) -> bool:
        self.pairings += 1
        return verifies(sigma, message_point, key)


def check_vector(name: str, vector: dict, check: Checker) -> None:
    fields = vector["seed_message"]
    message = seed_message(fields)
    check.eq(f"{name} seed message bytes", message.hex(), vector["seed_message_hex"])
    check.eq(f"{name} dst", vector["dst"], SEED_SIGNATURE_DST.decode())

    group = vector["group_public"]
    n, t = group["n"], group["threshold"]
    check.eq(f"{name} threshold", t, threshold(n))
    check.eq(f"{name} commitments count", len(group["commitments"]), t)
    check.eq(f"{name} group key is the constant term", group["commitments"][:1],
             [group["group_key"]])
    group_key = check.point(f"{name} group key", g2_from_hex, group["group_key"])
    commitments = [check.point(f"{name} commitment {k}", g2_from_hex, c)
                   for k, c in enumerate(group["commitments"])]

    message_point = hash_message(message, SEED_SIGNATURE_DST)
    sigma_bytes = bytes.fromhex(vector["signature"])
    sigma = check.point(f"{name} signature", g1_from_hex, vector["signature"])
    if sigma is not None and group_key is not None:
        check.expect(f"{name} signature verifies against the group key",
                     check.verifies(sigma, message_point, group_key))
        check.expect(f"{name} a tampered signature (sigma + g1) is refused",
                     not check.verifies(add(sigma, G1), message_point, group_key))
        other = bytearray(message)
        other[-1] ^= 1
        check.expect(f"{name} the signature on a tampered message is refused",
                     not check.verifies(sigma, hash_message(bytes(other), SEED_SIGNATURE_DST),
                                        group_key))
    check.eq(f"{name} seed", hashlib.sha256(SEED_TAG + sigma_bytes).hexdigest(), vector["seed"])

    partials = []
    for partial in vector.get("partials", []):
        index = partial["index"]
        what = f"{name} partial {index}"
        if not check.expect(f"{what} index below n", 0 <= index < n):
            continue
        point = check.point(what, g1_from_hex, partial["value"])
        if point is None or any(c is None for c in commitments):
            continue
        check.expect(f"{what} verifies against its share key",
                     check.verifies(point, message_point, share_key(commitments, index)))
        partials.append((index, point))
    check.eq(f"{name} partial indices distinct", len({i for i, _ in partials}), len(partials))
    if len(partials) >= t:
        partials.sort()
        # Any t partials give the same signature; try the lowest and the highest indices.
        subsets = [partials[:t]] + ([partials[-t:]] if len(partials) > t else [])
        for subset in subsets:
            indices = [i for i, _ in subset]
            check.eq(f"{name} interpolation of partials {indices}",
                     g1_hex(interpolate_at_zero(subset)), vector["signature"])


def hash_to_curve_matches_rfc9380() -> bool:
    x, y = normalize(hash_message(b"", RFC9380_DST))
    return (x.n, y.n) == (RFC9380_EMPTY_X, RFC9380_EMPTY_Y)


def main() -> int:
    if PY_ECC_MISSING is not None:
        print(f"note: py_ecc is not installed ({PY_ECC_MISSING}); `pip install py_ecc` to "
              "check the seed signature independently; skipped")
        return EXIT_SKIPPED
    default = (Path(__file__).resolve().parent.parent
               / "contracts/beacon/tests/vectors/beacon.json")
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else default
    try:
        document = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        print(f"cannot read {path}: {error}")
        return EXIT_UNUSABLE
    if not hash_to_curve_matches_rfc9380():
        print("FAIL: py_ecc's hash to G1 disagrees with the RFC 9380 test vector")
        return EXIT_MISMATCH
    vectors = document if isinstance(document, list) else [document]
    failed = 0
    for number, vector in enumerate(vectors):
        fields = vector["seed_message"]
        name = f"vector {number} ({fields['chain_id']} lottery {fields['lottery_id']})"
        check = Checker()
        started = time.monotonic()
        check_vector(name, vector, check)
        took = time.monotonic() - started
        if check.failures:
            failed += 1
            print(f"FAIL: {name}: {len(check.failures)} of {check.checked} checks failed "
                  f"({check.pairings} pairing checks, {took:.2f} s)")
        else:
            print(f"ok: {name}: {check.checked} checks ({check.pairings} pairing checks, "
                  f"{took:.2f} s)")
    return EXIT_MISMATCH if failed else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Exception:  # a malformed vector or a bug: not a verdict on the signature
        traceback.print_exc()
        sys.exit(EXIT_UNUSABLE)
