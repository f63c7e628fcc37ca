#!/usr/bin/env python3
"""Independent generator of the jiu-sun cross-implementation vectors.

Written from NT4H2421Gx section 9.3, AN12196 and AN10922 with the `cryptography` package,
sharing no code with the Rust crate. `src/tests/cross.rs` pins its output; run
`python3 contracts/sun/reference/gen_vectors.py` and compare after any change to the scheme.

Diversification: AN10922 AES-128 is AES-CMAC(K, 0x01 || M) when M is 16 to 31 bytes (the
two-block padding then coincides with CMAC's), which holds for both inputs used here.
"""

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.cmac import CMAC

AID = bytes.fromhex("D2760000850101")
SYSTEM_ID = b"jiu-sun-v1"


def cmac(key: bytes, data: bytes) -> bytes:
    c = CMAC(algorithms.AES(key))
    c.update(data)
    return c.finalize()


def aes_ecb_encrypt(key: bytes, block: bytes) -> bytes:
    e = Cipher(algorithms.AES(key), modes.ECB()).encryptor()
    return e.update(block) + e.finalize()


def aes_cbc_encrypt(key: bytes, iv: bytes, data: bytes) -> bytes:
    e = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    return e.update(data) + e.finalize()


def an10922(master: bytes, m: bytes) -> bytes:
    assert 16 <= len(m) <= 31
    return cmac(master, b"\x01" + m)


def tag_key(master: bytes, uid: bytes, key_no: int) -> bytes:
    return an10922(master, uid + AID + bytes([key_no]) + SYSTEM_ID)


def shared_key(master: bytes, key_no: int) -> bytes:
    return an10922(master, AID + bytes([key_no]) + SYSTEM_ID)


def tap(meta_key, file_key, uid, counter, padding, mac_input, file_plain=None):
    ctr = counter.to_bytes(3, "little")
    picc = aes_ecb_encrypt(meta_key, b"\xc7" + uid + ctr + padding)
    enc = None
    if file_plain is not None:
        ks_enc = cmac(file_key, bytes.fromhex("C33C00010080") + uid + ctr)
        iv = aes_ecb_encrypt(ks_enc, ctr + bytes(13))
        enc = aes_cbc_encrypt(ks_enc, iv, file_plain)
        mac_input = mac_input.replace(b"{enc}", enc.hex().upper().encode())
    ks_mac = cmac(file_key, bytes.fromhex("3CC300010080") + uid + ctr)
    full = cmac(ks_mac, mac_input)
    return picc, full[1::2], enc, mac_input


def self_check():
    """The generator must reproduce AN12196's examples before its output means anything."""
    zero = bytes(16)
    picc, mac, _, _ = tap(zero, zero, bytes.fromhex("04DE5F1EACC040"), 0x3D,
                          bytes.fromhex("DA5CF60941"), b"")
    assert picc.hex().upper() == "EF963FF7828658A599F3041510671E88"
    assert mac.hex().upper() == "94EED9EE65337086"
    picc, mac, enc, _ = tap(zero, zero, bytes.fromhex("04958CAA5C5E80"), 8, bytes(5),
                            b"{enc}&cmac=", b"x" * 16)
    assert enc.hex().upper() == "CEE9A53E3E463EF1F459635736738962"
    assert mac.hex().upper() == "ECC1E7F6C6C73BF6"
    # AN10922 section 2.2.1.
    assert an10922(bytes.fromhex("00112233445566778899AABBCCDDEEFF"),
                   bytes.fromhex("04782E21801D803042F54E585020416275")).hex().upper() \
        == "A8DD63A3B89D54B37CA802473FDA9175"


def main():
    self_check()
    meta_master = bytes.fromhex("00112233445566778899AABBCCDDEEFF")
    file_master = bytes.fromhex("FFEEDDCCBBAA99887766554433221100")
    uid = bytes.fromhex("04782E21801D80")
    out = {
        "meta_tag_key": tag_key(meta_master, uid, 1),
        "file_tag_key": tag_key(file_master, uid, 2),
        "meta_shared_key": shared_key(meta_master, 1),
    }
    picc, mac, _, _ = tap(out["meta_tag_key"], out["file_tag_key"], uid, 0x01A2B3,
                          bytes.fromhex("0102030405"), b"")
    out["per_tag_picc"], out["per_tag_cmac"] = picc, mac
    picc, mac, enc, mac_input = tap(out["meta_shared_key"], out["file_tag_key"], uid, 0x00002A,
                                    bytes.fromhex("A1A2A3A4A5"), b"{enc}&cmac=",
                                    b"CCjiu-bottle-001")
    out["shared_picc"], out["shared_cmac"], out["shared_enc"] = picc, mac, enc
    for name, value in out.items():
        print(f"{name} = {value.hex().upper()}")
    print(f"shared_mac_input = {mac_input.decode()}")


if __name__ == "__main__":
    main()
