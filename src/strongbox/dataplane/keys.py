"""Vault keys: a random master secret wrapped by a passphrase-derived key.

Master secret (64 random bytes + a chunker seed) never changes; it is stored only wrapped:
``keys/<key id>`` is a plaintext JSON key file holding the KDF (Argon2id, argon2-cffi
low-level API) parameters, its salt, and the master secret sealed with AES-256-GCM under
the derived key (associated data ``strongbox-key-v1``). Rotating the passphrase writes a
new key file, then deletes the old one: no data is rewritten, and a crash in between
leaves two valid key files, never zero.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
from dataclasses import dataclass

from argon2.low_level import Type, hash_secret_raw
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from strongbox.dataplane.errors import VaultCorrupt, WrongPassphrase

KEY_FORMAT = 1
_AD = b"strongbox-key-v1"
KDF_TIME = int(os.environ.get("STRONGBOX_KDF_TIME", "2"))
KDF_MEMORY_KIB = int(os.environ.get("STRONGBOX_KDF_MEMORY_KIB", str(32 * 1024)))
KDF_PARALLELISM = 2


@dataclass(frozen=True)
class MasterKey:
    enc_key: bytes
    id_key: bytes
    chunker_seed: int

    @classmethod
    def generate(cls) -> "MasterKey":
        return cls(secrets.token_bytes(32), secrets.token_bytes(32), secrets.randbelow(2**31 - 1) + 1)

    def to_bytes(self) -> bytes:
        return json.dumps({"enc": self.enc_key.hex(), "id": self.id_key.hex(),
                           "seed": self.chunker_seed}).encode()

    @classmethod
    def from_bytes(cls, raw: bytes) -> "MasterKey":
        d = json.loads(raw)
        return cls(bytes.fromhex(d["enc"]), bytes.fromhex(d["id"]), int(d["seed"]))


def _b64(b: bytes) -> str:
    return base64.b64encode(b).decode()


def _derive(passphrase: bytes, salt: bytes, t: int, m: int, p: int) -> bytes:
    return hash_secret_raw(passphrase, salt, time_cost=t, memory_cost=m, parallelism=p,
                           hash_len=32, type=Type.ID)


def wrap(master: MasterKey, passphrase: bytes) -> bytes:
    salt = secrets.token_bytes(16)
    kek = _derive(passphrase, salt, KDF_TIME, KDF_MEMORY_KIB, KDF_PARALLELISM)
    nonce = secrets.token_bytes(12)
    sealed = AESGCM(kek).encrypt(nonce, master.to_bytes(), _AD)
    doc = {"format": "strongbox-key", "version": KEY_FORMAT, "kdf": "argon2id",
           "time_cost": KDF_TIME, "memory_cost_kib": KDF_MEMORY_KIB, "parallelism": KDF_PARALLELISM,
           "salt": _b64(salt), "nonce": _b64(nonce), "wrapped": _b64(sealed)}
    return json.dumps(doc, indent=1).encode()


def unwrap(keyfile: bytes, passphrase: bytes) -> MasterKey:
    """Raise :class:`WrongPassphrase` if the passphrase does not open this key file."""
    try:
        d = json.loads(keyfile)
        if d.get("format") != "strongbox-key" or d.get("kdf") != "argon2id":
            raise VaultCorrupt("unsupported key file")
        kek = _derive(passphrase, base64.b64decode(d["salt"]), int(d["time_cost"]),
                      int(d["memory_cost_kib"]), int(d["parallelism"]))
        sealed = base64.b64decode(d["wrapped"])
        nonce = base64.b64decode(d["nonce"])
    except (ValueError, KeyError, TypeError) as err:
        raise VaultCorrupt(f"unreadable key file: {err}") from None
    try:
        return MasterKey.from_bytes(AESGCM(kek).decrypt(nonce, sealed, _AD))
    except InvalidTag:
        raise WrongPassphrase() from None
