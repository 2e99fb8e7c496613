"""A string that may hold a credential: it never shows itself.

Every value read from a container's ``environment`` lives in a :class:`Secret`. Its ``repr`` and
``str`` show only a fingerprint, it refuses JSON encoding (it is not a ``str``), and the only way
to the value is :meth:`Secret.reveal`, which the credential detector and nothing else calls.
"""

from __future__ import annotations

import hashlib


def fingerprint(value: str) -> str:
    """First 8 hex characters of the value's SHA-256: recognisable across scans, not reversible."""
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:8]


class Secret:
    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    @property
    def fingerprint(self) -> str:
        return fingerprint(self._value)

    def __bool__(self) -> bool:
        return bool(self._value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __repr__(self) -> str:
        return f"Secret(sha256:{self.fingerprint})"

    __str__ = __repr__

    def __reduce__(self) -> object:  # pickling would carry the value out
        raise TypeError("a Secret cannot be pickled")
