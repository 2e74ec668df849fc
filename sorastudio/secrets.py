"""API keys at rest: Fernet-encrypted with a key that never leaves this machine's data folder.

The Fernet key lives in `<SORASTUDIO_HOME or user data dir>/secret.key`, created on first use with mode
0600 (atomically, so two processes starting together agree on one key). Deployments whose workers share
a PostgreSQL database on several machines must share the key too: copy the file, or set
`SORASTUDIO_SECRET_KEY` to its content.

Plaintext keys travel inside `Secret`, whose `repr`/`str`/format show only a mask, so a key cannot
reach a log line or a traceback by accident; `.reveal()` is the one explicit way out.
"""

from __future__ import annotations

import hmac
import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from sorastudio.errors import SorastudioError
from sorastudio.store.db import data_home

KEY_FILE_NAME = "secret.key"
KEY_ENV = "SORASTUDIO_SECRET_KEY"
_MASK = "********"


class Secret:
    """A secret string that does not print itself. Compare with `==`; read with `.reveal()`."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        if not isinstance(value, str):
            raise TypeError(f"Secret holds a str, not {type(value).__name__}")
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return f"Secret('{_MASK}')"

    def __str__(self) -> str:
        return _MASK

    def __format__(self, _spec: str) -> str:
        return _MASK

    def __bool__(self) -> bool:
        return bool(self._value)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        return hmac.compare_digest(self._value.encode(), other._value.encode())

    __hash__ = None  # type: ignore[assignment]  # mutable-looking equality; never a dict key

    def __reduce__(self) -> tuple[object, ...]:
        # Pickling would write the plaintext into queues, caches or crash dumps.
        raise TypeError("Secret cannot be pickled")


def key_path() -> Path:
    return data_home() / KEY_FILE_NAME


def _load_or_create_key(path: Path) -> bytes:
    try:
        return path.read_bytes().strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{os.urandom(4).hex()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.fchmod(fd, 0o600)  # whatever the umask
        os.write(fd, Fernet.generate_key())
        os.fsync(fd)
    finally:
        os.close(fd)
    try:
        os.link(tmp, path)  # atomic and refuses to replace: the first process to get here wins
    except FileExistsError:
        pass
    finally:
        tmp.unlink(missing_ok=True)
    return path.read_bytes().strip()


def _fernet() -> Fernet:
    configured = os.environ.get(KEY_ENV)
    key = configured.encode() if configured else _load_or_create_key(key_path())
    try:
        return Fernet(key)
    except ValueError:
        source = KEY_ENV if configured else str(key_path())
        raise SorastudioError(
            f"the secret key in {source} is not a valid Fernet key (44 url-safe base64 characters)"
        ) from None


def encrypt(value: str | Secret) -> bytes:
    """Encrypt a secret for storage (creates the key file on first use)."""
    plain = value.reveal() if isinstance(value, Secret) else value
    return _fernet().encrypt(plain.encode("utf-8"))


def decrypt(token: bytes) -> str:
    """Decrypt what `encrypt()` produced; a clear error if the key file is not the one that encrypted it."""
    try:
        return _fernet().decrypt(bytes(token)).decode("utf-8")
    except InvalidToken:
        source = KEY_ENV if os.environ.get(KEY_ENV) else str(key_path())
        raise SorastudioError(
            f"a stored API key cannot be decrypted with the key in {source}: the key was replaced or the "
            "database comes from another installation; add the profile's API key again"
        ) from None


def decrypt_secret(token: bytes) -> Secret:
    return Secret(decrypt(token))


__all__ = ["Secret", "decrypt", "decrypt_secret", "encrypt", "key_path"]
