"""Secrets the database must store but never read: clinics' carrier auth tokens.

Encrypted with Fernet (AES-128-CBC + HMAC-SHA256, from the maintained ``cryptography`` library) under a key
that lives outside the database: ``VOXBOOK_SECRETS_KEY``, one or more Fernet keys separated by commas. The
first key encrypts; every key decrypts (``MultiFernet``), so a key is rotated by putting the new one first,
re-encrypting (``voxbook clinic carrier rekey``), then dropping the old one. The database keeps the ciphertext
and the ``key_id`` of the key that made it (the first 12 hex digits of the key's sha256), never the plaintext:
whoever reads a dump without the key learns nothing.

Make a key with ``python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'``
(``voxbook up`` generates one into ``.voxbook/local.env``).
"""

from __future__ import annotations

import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet


class SecretsKeyError(ValueError):
    """VOXBOOK_SECRETS_KEY is missing or malformed, or no key of it opens a ciphertext."""


def generate_key() -> str:
    return Fernet.generate_key().decode("ascii")


def key_id(key: str) -> str:
    """A short public name of a key, stored beside each ciphertext (which key to keep during a rotation)."""
    return hashlib.sha256(key.strip().encode("ascii")).hexdigest()[:12]


class SecretsBox:
    """Encrypts and decrypts short secrets with the keys of VOXBOOK_SECRETS_KEY (first one encrypts)."""

    def __init__(self, keys: str | None):
        parts = [k.strip() for k in (keys or "").split(",") if k.strip()]
        if not parts:
            raise SecretsKeyError("VOXBOOK_SECRETS_KEY is not set: clinics' carrier tokens cannot be encrypted "
                                  "or read (voxbook up generates one; see README, Configuration)")
        fernets = []
        for i, k in enumerate(parts, 1):
            try:
                fernets.append(Fernet(k.encode("ascii")))
            except (ValueError, UnicodeEncodeError):
                # Never the key itself in a message.
                raise SecretsKeyError(f"VOXBOOK_SECRETS_KEY: key {i} is not a Fernet key (32 url-safe "
                                      "base64-encoded bytes)") from None
        self._box = MultiFernet(fernets)
        self._ids = [key_id(k) for k in parts]

    def __repr__(self) -> str:   # never the keys
        return f"SecretsBox(key_ids={self._ids!r})"

    @property
    def key_id(self) -> str:
        """The id of the key new ciphertexts are made with."""
        return self._ids[0]

    @property
    def key_ids(self) -> tuple[str, ...]:
        return tuple(self._ids)

    def encrypt(self, plaintext: str) -> str:
        return self._box.encrypt(plaintext.encode("utf-8")).decode("ascii")

    def decrypt(self, ciphertext: str) -> str:
        try:
            return self._box.decrypt(ciphertext.encode("ascii")).decode("utf-8")
        except (InvalidToken, UnicodeError):
            raise SecretsKeyError("no key of VOXBOOK_SECRETS_KEY opens this ciphertext (rotated away, or "
                                  "another deployment's key)") from None

    def rotate(self, ciphertext: str) -> str:
        """The same secret, encrypted again with the first key."""
        try:
            return self._box.rotate(ciphertext.encode("ascii")).decode("ascii")
        except (InvalidToken, UnicodeError):
            raise SecretsKeyError("no key of VOXBOOK_SECRETS_KEY opens this ciphertext") from None
