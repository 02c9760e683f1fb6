"""Encryption at rest for small secrets (users' own API keys): Fernet (AES-128-CBC + HMAC-SHA256).

The key comes from `CHATAPP_SECRET_KEY` (`Settings.secret_key`): a Fernet key is used as is, any other
value is stretched with HKDF. Without it, a key is derived from the JWT secret with HKDF under a
different label, so the two secrets are never the same bytes. Changing the key makes stored secrets
unreadable (`decrypt` returns None and the user enters the key again) — it never crashes a request.
"""

from __future__ import annotations

import base64
import binascii

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from chatapp.core.config import Settings
from chatapp.errors import ConfigError

_INFO = b"chatapp secretbox v1"


def _derive(material: str) -> bytes:
    raw = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(
        material.encode("utf-8")
    )
    return base64.urlsafe_b64encode(raw)


def _as_fernet_key(value: str) -> bytes | None:
    try:
        raw = base64.urlsafe_b64decode(value.encode())
    except (binascii.Error, ValueError):
        return None
    return value.encode() if len(raw) == 32 and len(value) == 44 else None


class SecretBox:
    """Encrypts and decrypts short strings with one key."""

    def __init__(self, key_material: str) -> None:
        """Args: key_material: a Fernet key, or any secret of at least 16 characters.

        Raises:
            ConfigError: the material is too short to be a secret.
        """
        if len(key_material) < 16:
            raise ConfigError("the encryption key must be at least 16 characters")
        self._fernet = Fernet(_as_fernet_key(key_material) or _derive(key_material))

    def encrypt(self, plaintext: str) -> str:
        """The ciphertext of `plaintext` (URL-safe text; random IV, so never the same twice)."""
        return self._fernet.encrypt(plaintext.encode("utf-8")).decode("ascii")

    def decrypt(self, token: str) -> str | None:
        """The plaintext, or None when the token is corrupt or was made with another key."""
        try:
            return self._fernet.decrypt(token.encode("ascii")).decode("utf-8")
        except (InvalidToken, UnicodeError, ValueError):
            return None


def box_for(settings: Settings) -> SecretBox:
    """The box for this deployment: `CHATAPP_SECRET_KEY`, else derived from the JWT secret."""
    if settings.secret_key:
        return SecretBox(settings.secret_key)
    # A separate label keeps the derived key distinct from anything else made from the JWT secret.
    return SecretBox("secretbox:" + settings.jwt_secret)
