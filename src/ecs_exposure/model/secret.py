"""A string that may hold a credential: it never shows itself.

Every value read from a container's ``environment`` lives in a :class:`Secret`. Its ``repr`` and
``str`` show only a fingerprint, it refuses JSON encoding (it is not a ``str``), and the only way
to the value is :meth:`Secret.reveal`, which the credential detector and nothing else calls.

Fingerprints are keyed (HMAC-SHA-256, see :mod:`ecs_exposure.fingerprint`): an unkeyed hash of a
weak password could be reversed from a report by brute force.
"""

from __future__ import annotations

from ..fingerprint import FingerprintKeyError, fingerprint

__all__ = ["Secret", "fingerprint"]


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
        try:
            return f"Secret(hmac:{self.fingerprint})"
        except FingerprintKeyError:  # a repr must not fail: say the key is the problem
            return "Secret(hmac:no-key)"

    __str__ = __repr__

    def __reduce__(self) -> object:  # pickling would carry the value out
        raise TypeError("a Secret cannot be pickled")
