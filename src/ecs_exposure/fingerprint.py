"""Keyed fingerprints of credential values (spec §4).

A fingerprint lets a reader recognise the same secret across scans and files without seeing it. An
unkeyed hash of a weak password is reversed by brute force in seconds, so the fingerprint is an
HMAC-SHA-256 of the value under a secret key, cut to its first 12 hex characters (48 bits: enough
to tell a handful of secrets apart, far too few to confirm a guess offline without the key).

The key, in this order:

1. set by the program with :func:`set_fingerprint_key` (the configuration file, an embedding
   application);
2. the environment variable ``ECS_EXPOSURE_FINGERPRINT_KEY``: the key in hexadecimal, at least
   32 hex digits (16 bytes; ``openssl rand -hex 32`` makes a good one), surrounding white space
   ignored;
3. a random 32-byte key of this installation, kept (hex, one line, mode 0600) in
   ``fingerprint-key`` under the user's data directory (``platformdirs.user_data_dir``:
   ``~/.local/share/ecs-exposure`` on Linux), made on first use. Two processes racing to make it
   end with one key: each writes its own to a temporary file and hard-links it into place, which
   never replaces a file that is already there.

When the data directory cannot hold the key (not writable, the key file unreadable or not a key),
this run uses a one-time random key and says so once on stderr: its fingerprints match nothing
from other runs, but no scan fails for want of a place to keep a key.

A team that wants the same fingerprints everywhere shares one key: the same value in
``ECS_EXPOSURE_FINGERPRINT_KEY`` on every machine and in CI (or the same ``fingerprint-key``
file). Evidence names the key only by its id, the first 8 hex characters of the key's SHA-256,
so a reader can tell which fingerprints are comparable; the key itself is never shown.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import hmac
import os
import secrets
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ENV_VAR = "ECS_EXPOSURE_FINGERPRINT_KEY"
KEY_FILE_NAME = "fingerprint-key"
MIN_KEY_BYTES = 16
NEW_KEY_BYTES = 32
FINGERPRINT_HEX = 12


class FingerprintKeyError(ValueError):
    """A key that cannot be used. The message names where it came from, never its value."""


@dataclass(frozen=True, slots=True)
class FingerprintKey:
    key: bytes = field(repr=False)
    source: str  # "explicit", "environment", "file" or "ephemeral"
    location: str | None = None  # the key file, for "file"

    @property
    def id(self) -> str:
        """First 8 hex characters of the key's SHA-256: names the key, reveals nothing of it."""
        return hashlib.sha256(self.key).hexdigest()[:8]


_lock = threading.Lock()
_explicit: FingerprintKey | None = None
_resolved: FingerprintKey | None = None


def parse_key(text: str, where: str) -> bytes:
    """A key written as text (the environment variable, the key file): hexadecimal, at least
    ``MIN_KEY_BYTES`` bytes. ``where`` names the source in the error; the text never appears."""
    digits = "".join(text.split())
    if not digits:
        raise FingerprintKeyError(f"{where} is empty")
    try:
        key = bytes.fromhex(digits)
    except ValueError:
        raise FingerprintKeyError(f"{where} is not hexadecimal (write the key as hex digits)") from None
    if len(key) < MIN_KEY_BYTES:
        raise FingerprintKeyError(
            f"{where} is too short: {len(key)} bytes, at least {MIN_KEY_BYTES} "
            f"({2 * MIN_KEY_BYTES} hex digits) are needed"
        )
    return key


def set_fingerprint_key(key: bytes | str | None) -> None:
    """Use ``key`` for every fingerprint from now on (bytes, or text in hexadecimal), before the
    environment variable and the key file. ``None`` forgets it and any key already resolved, so the
    next fingerprint resolves the key again (environment, then key file)."""
    global _explicit, _resolved
    if key is None:
        parsed = None
    elif isinstance(key, str):
        parsed = FingerprintKey(parse_key(key, "the configured fingerprint key"), "explicit")
    else:
        if len(key) < MIN_KEY_BYTES:
            raise FingerprintKeyError(
                f"the configured fingerprint key is too short: {len(key)} bytes, at least {MIN_KEY_BYTES}"
            )
        parsed = FingerprintKey(bytes(key), "explicit")
    with _lock:
        _explicit = parsed
        _resolved = None


def environment_key_problem() -> str | None:
    """What is wrong with ``ECS_EXPOSURE_FINGERPRINT_KEY`` (None when it is unset or usable): the
    command line checks it before scanning, so a bad key is one clear line, not a failed trait."""
    if _explicit is not None:
        return None
    text = os.environ.get(ENV_VAR)
    if text is None:
        return None
    try:
        parse_key(text, ENV_VAR)
    except FingerprintKeyError as e:
        return str(e)
    return None


def key_file_path() -> Path:
    import platformdirs

    return Path(platformdirs.user_data_dir("ecs-exposure", appauthor=False)) / KEY_FILE_NAME


def current_key() -> FingerprintKey:
    """The key fingerprints use now, resolved once per process (see the module's docstring)."""
    global _resolved
    found = _resolved
    if found is not None:
        return found
    with _lock:
        if _resolved is None:
            _resolved = _explicit or _resolve()
        return _resolved


def _resolve() -> FingerprintKey:
    text = os.environ.get(ENV_VAR)
    if text is not None:
        return FingerprintKey(parse_key(text, ENV_VAR), "environment")
    path = key_file_path()
    try:
        return FingerprintKey(_load_or_create(path), "file", str(path))
    except (OSError, FingerprintKeyError) as e:
        reason = (e.strerror or e.__class__.__name__) if isinstance(e, OSError) else str(e)
        print(
            f"ecs-exposure: note: cannot keep a fingerprint key in {path} ({reason}): this run uses "
            f"a one-time key, so its fingerprints match no other run; set {ENV_VAR} to a shared key",
            file=sys.stderr,
        )
        return FingerprintKey(secrets.token_bytes(NEW_KEY_BYTES), "ephemeral")


def _read_key_file(path: Path) -> bytes:
    # a racing creator without hard links (see _create) may not have written its key yet
    for _ in range(50):
        text = path.read_text(encoding="ascii", errors="replace")
        if text.strip():
            return parse_key(text, f"the key file {path}")
        time.sleep(0.01)
    raise FingerprintKeyError(f"the key file {path} is empty")


def _load_or_create(path: Path) -> bytes:
    try:
        return _read_key_file(path)
    except FileNotFoundError:
        pass
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    line = (secrets.token_bytes(NEW_KEY_BYTES).hex() + "\n").encode("ascii")
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
    try:
        try:
            os.write(fd, line)
            os.fsync(fd)
        finally:
            os.close(fd)
        try:
            os.link(tmp, path)  # atomic and never replaces: the first process to link wins
        except FileExistsError:
            pass  # another process made the key first: use that one
        except OSError as e:
            if e.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV, errno.EMLINK):
                raise
            _create_exclusive(path, line)  # no hard links on this file system
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
    return _read_key_file(path)


def _create_exclusive(path: Path, line: bytes) -> None:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
    except FileExistsError:
        return
    try:
        os.write(fd, line)
        os.fsync(fd)
    finally:
        os.close(fd)


def fingerprint(value: str) -> str:
    """First 12 hex characters of the value's HMAC-SHA-256 under the current key."""
    key = (_resolved or current_key()).key
    return hmac.digest(key, value.encode("utf-8", "surrogatepass"), "sha256").hex()[:FINGERPRINT_HEX]


def key_id() -> str:
    """The id of the key :func:`fingerprint` uses (recorded on evidence beside each fingerprint)."""
    return (_resolved or current_key()).id
