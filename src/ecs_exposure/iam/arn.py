"""Resource patterns against the ARN formats of resource types, decided exactly.

A statement's ``Resource`` / ``NotResource`` patterns are IAM globs; a resource type's ARN format
(``arn:${Partition}:iam::${Account}:role/${RoleNameWithPath}``) is, once the partition and the
account are fixed, a small regular language too. Whether the patterns cover *every* resource of a
type, *some* of them or *none* is then a question about regular languages, answered exactly by
running the automata of the format and of the patterns side by side over a small alphabet (the
characters the patterns and formats name, plus one stand-in for every other kind of character).

Matching rules, as AWS documents them for the ``Resource`` element:

- ``*`` matches any run of characters, ``?`` any one character. In the first five
  colon-separated parts (``arn``, partition, service, region, account) they stay inside their part,
  except that a ``*`` ending a part "can expand to match beyond the colon boundaries"; in the
  resource part (after the fifth colon) they match colons like any other character. AWS accepts
  only ``*`` or a partition name as the partition and a literal service (:mod:`.grammar`): a ``*``
  partition stands for the partition and stays inside it.
- The partition and service parts compare without regard to case; the rest of an ARN is
  case-sensitive.
- A policy variable (``${aws:username}``) stands for one value the request supplies: a pattern using
  one covers *some* resources, never every one. ``${*}``, ``${?}`` and ``${$}`` are the literal
  characters.

The universe of a resource type is its format with the role's own partition and account
(``${Account}`` and other account ids), any region (``[a-z0-9-]+``), bucket names of S3's
characters (``[a-z0-9.-]+``), S3 object keys of any characters, and every other name any run of
characters without a colon (``role/a/b`` is a role name with a path). An action without a resource
type acts on ``*`` alone: only a pattern that matches the text ``*`` covers it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

# character classes
ANY, NOCOLON, REGION, BUCKET, DIGIT = range(5)
# token kinds
LIT, ONE, STAR = range(3)

Token = tuple[int, object]  # (LIT, char) | (ONE, class) | (STAR, class)

_LOWER = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-")
_BUCKET = _LOWER | {"."}
_DIGITS = frozenset("0123456789")
VARIABLE_BASE = 0xF0000  # policy variables become characters of the supplementary private use area
_MAX_STATES = 5_000  # joint automaton states explored for one question before giving up
MAX_PATTERN = 2048  # characters: no ARN is longer


class TooComplex(ValueError):
    """Resource patterns whose automata grow past the exploration limit."""


def is_variable(ch: str) -> bool:
    return ord(ch) >= VARIABLE_BASE


def in_class(ch: str, cls: int) -> bool:
    if cls == ANY:
        return True
    if ch == ":":
        return False
    if cls == NOCOLON or is_variable(ch):
        return True
    if cls == REGION:
        return ch in _LOWER
    if cls == BUCKET:
        return ch in _BUCKET
    return ch in _DIGITS


_variables: dict[str, str] = {}


def variable_symbol(name: str) -> str:
    """The character standing for a policy variable's value (``aws:username``; names compare
    without regard to case, a default value after a comma is ignored)."""
    key = name.split(",", 1)[0].strip().lower()
    sym = _variables.get(key)
    if sym is None:
        sym = _variables[key] = chr(VARIABLE_BASE + 1 + len(_variables))
    return sym


_ITEM = re.compile(r"\$\{([^}]*)\}|.", re.S)


@lru_cache(maxsize=8192)
def pattern_tokens(pattern: str) -> tuple[Token, ...]:
    """A ``Resource`` pattern as tokens (see the module docstring for the rules)."""
    items: list[tuple[str, str]] = []  # ("c", char) | ("*", "") | ("?", "")
    for m in _ITEM.finditer(pattern):
        name = m.group(1)
        if name is None:
            ch = m.group(0)
            items.append((ch, "") if ch in "*?" else ("c", ch))
        elif name in ("*", "?", "$"):
            items.append(("c", name))
        else:
            items.append(("c", variable_symbol(name)))
    out: list[Token] = []
    colons = 0
    for i, (kind, ch) in enumerate(items):
        if kind == "c":
            out.append((LIT, ch.lower() if colons in (1, 2) else ch))
            if ch == ":":
                colons += 1
        elif colons >= 5:
            out.append((STAR, ANY) if kind == "*" else (ONE, ANY))
        elif kind == "*":
            ends_part = colons != 1 and (i + 1 == len(items) or items[i + 1] == ("c", ":"))
            out.append((STAR, ANY if ends_part else NOCOLON))
        else:
            out.append((ONE, NOCOLON))
    return _merge_stars(out)


_WIDTH = {DIGIT: 0, REGION: 1, BUCKET: 2, NOCOLON: 3, ANY: 4}  # each class holds the ones before it


def _merge_stars(tokens: list[Token]) -> tuple[Token, ...]:
    """Adjacent stars as one: ``A*B*`` is ``B*`` when class A is inside class B."""
    out: list[Token] = []
    for t in tokens:
        if t[0] == STAR and out and out[-1][0] == STAR:
            out[-1] = (STAR, max(out[-1][1], t[1], key=_WIDTH.__getitem__))  # type: ignore[arg-type]
        else:
            out.append(t)
    return tuple(out)


_PLACEHOLDER = re.compile(r"\$\{([^}]*)\}|.", re.S)


@lru_cache(maxsize=8192)
def format_tokens(fmt: str, partition: str, account: str) -> tuple[Token, ...]:
    """The resources of one type in one account, every region, as tokens."""
    out: list[Token] = []
    colons = 0
    for m in _PLACEHOLDER.finditer(fmt):
        name = m.group(1)
        if name is None:
            ch = m.group(0)
            if ch == "*":
                out.append((STAR, NOCOLON))
            else:
                out.append((LIT, ch.lower() if colons in (1, 2) else ch))
                if ch == ":":
                    colons += 1
            continue
        if name == "Partition":
            out.extend((LIT, c) for c in partition.lower())
        elif "Account" in name:
            out.extend((LIT, c) for c in account)
        else:
            cls = (
                REGION
                if name == "Region"
                else BUCKET
                if name.endswith("BucketName")
                else ANY
                if name == "ObjectName"
                else NOCOLON
            )
            out.extend(((ONE, cls), (STAR, cls)))
    return _merge_stars(out)


def example(fmt: str, partition: str, account: str) -> str:
    """One resource of the type: a name for every placeholder."""

    def fill(m: re.Match[str]) -> str:
        name = m.group(1)
        if name == "Partition":
            return partition
        if "Account" in name:
            return account
        if name == "Region":
            return "us-east-1"
        return "example"

    return re.sub(r"\$\{([^}]*)\}", fill, fmt).replace("*", "example")


def matches(tokens: Sequence[Token], text: str) -> bool:
    """Whether ``text`` is in the language of ``tokens``."""
    return len(tokens) in _run(tokens, text)


def _run(tokens: Sequence[Token], text: str) -> set[int]:
    """The states after reading ``text`` (empty: no string of the language starts with it)."""
    states = _closure_of(tokens, 0)
    n = len(tokens)
    for ch in text:
        nxt: set[int] = set()
        for i in states:
            if i == n:
                continue
            kind, val = tokens[i]
            if kind == STAR:
                if in_class(ch, val):  # type: ignore[arg-type]
                    nxt |= _closure_of(tokens, i)
            elif (kind == LIT and val == ch) or (kind == ONE and in_class(ch, val)):  # type: ignore[arg-type]
                nxt |= _closure_of(tokens, i + 1)
        states = nxt
        if not states:
            break
    return states


def _literal_prefix(tokens: Sequence[Token]) -> str:
    out = []
    for kind, val in tokens:
        if kind != LIT:
            break
        out.append(val)
    return "".join(out)  # type: ignore[arg-type]


_FILL = {ANY: "efgh", NOCOLON: "efgh", REGION: "efgh", BUCKET: "efgh", DIGIT: "1234"}


def samples(tokens: Sequence[Token]) -> list[str]:
    """A few strings of the language (every run of a class filled with one character)."""
    out = []
    for i in range(4):
        out.append(
            "".join(val if kind == LIT else "" if kind == STAR else _FILL[val][i] for kind, val in tokens)
        )  # type: ignore[index, misc]
    return list(dict.fromkeys(out))


def quick_memberships(universe: Sequence[Token], spec: Spec) -> dict[bool, str] | Spec:
    """The memberships in ``spec`` that resources of ``universe`` have (each with one such
    resource), when simple reasoning decides them: patterns whose literal start no resource has
    are dropped; a spec of literal ARNs is a finite set. Otherwise the spec reduced to the
    patterns that may match, for :func:`realizable`."""
    live = tuple(p for p in spec.patterns if _run(universe, _literal_prefix(pattern_tokens(p))))
    if not live:
        return {spec.negated: samples(universe)[0]}
    tokens = [pattern_tokens(p) for p in live]
    if all(all(kind == LIT for kind, _ in t) for t in tokens):
        literals = {_literal_prefix(t) for t in tokens}
        inside = sorted(w for w in literals if matches(universe, w))
        outside = [w for w in samples(universe) if w not in literals]
        if all(kind == LIT for kind, _ in universe):  # a universe of one resource
            only = _literal_prefix(universe)
            return {(only in literals) != spec.negated: only}
        if not outside:
            return Spec(live, spec.negated)
        out = {spec.negated: outside[0]}
        if inside:
            out[not spec.negated] = inside[0]
        return out
    return Spec(live, spec.negated)


def _closure_of(tokens: Sequence[Token], i: int) -> set[int]:
    out = {i}
    while i < len(tokens) and tokens[i][0] == STAR:
        i += 1
        out.add(i)
    return out


# ------------------------------------------------------------------ automata over a small alphabet

# stand-ins for characters no token names, one per kind of character
_POOL = (
    ":",  # only ANY
    "_~^|\\QXZ",  # ANY and NOCOLON
    ".",  # and BUCKET
    "abcdefghijklmnopqrstuvwxyz-",  # and REGION
    "0123456789" + chr(VARIABLE_BASE),  # every class
)


def alphabet(token_lists: Iterable[Sequence[Token]]) -> list[str]:
    named: set[str] = set()
    for tokens in token_lists:
        named.update(val for kind, val in tokens if kind == LIT)  # type: ignore[misc]
    out = sorted(named)
    for group in _POOL:
        spare = next((c for c in group if c not in named), None)
        if spare is not None:
            out.append(spare)
    return out


@dataclass(frozen=True, slots=True)
class Automaton:
    """A union of token languages as one NFA whose states are the bits of an int (a token's
    position; one past a language's last token accepts), stepped with a few integer operations
    whatever the number of states: hostile patterns with thousands of wildcards stay cheap."""

    init: int
    accept: int
    stars: int  # the states of STAR tokens
    masks: tuple[int, ...]  # per symbol: the states whose token takes it

    def close(self, states: int) -> int:
        """Add the states reached by letting stars match nothing."""
        while True:
            more = states | ((states & self.stars) << 1)
            if more == states:
                return states
            states = more

    def step(self, states: int, sym: int) -> int:
        took = states & self.masks[sym]
        return self.close((took & self.stars) | ((took & ~self.stars) << 1))


_MASKS: dict[int, tuple[Sequence[Token], dict[str, int]]] = {}


def _takes(tokens: Sequence[Token], ch: str) -> int:
    """The token positions that take character ``ch`` (memoised per token list)."""
    entry = _MASKS.get(id(tokens))
    if entry is None or entry[0] is not tokens:
        if len(_MASKS) > 4096:
            _MASKS.clear()
        entry = _MASKS[id(tokens)] = (tokens, {})
    hit = entry[1].get(ch)
    if hit is None:
        hit = 0
        for i, (kind, val) in enumerate(tokens):
            if (kind == LIT and val == ch) or (kind != LIT and in_class(ch, val)):  # type: ignore[arg-type]
                hit |= 1 << i
        entry[1][ch] = hit
    return hit


def automaton(languages: Sequence[Sequence[Token]], symbols: Sequence[str]) -> Automaton:
    init = accept = stars = 0
    masks = [0] * len(symbols)
    base = 0
    for tokens in languages:
        init |= 1 << base
        accept |= 1 << (base + len(tokens))
        for i, (kind, _) in enumerate(tokens):
            if kind == STAR:
                stars |= 1 << (base + i)
        for k, ch in enumerate(symbols):
            masks[k] |= _takes(tokens, ch) << base
        base += len(tokens) + 1
    auto = Automaton(0, accept, stars, tuple(masks))
    return Automaton(auto.close(init), accept, stars, tuple(masks))


@dataclass(frozen=True, slots=True)
class Spec:
    """A statement's resource element: its patterns, and whether it is ``NotResource``."""

    patterns: tuple[str, ...]
    negated: bool = False

    @property
    def everything(self) -> bool:
        """Covers every resource whatever its type: ``Resource: "*"``."""
        return not self.negated and "*" in self.patterns

    @property
    def nothing(self) -> bool:
        return self.negated and "*" in self.patterns

    def contains_star(self) -> bool:
        """Whether the text ``*`` (the resource of an action without a resource type) is in it."""
        hit = any(matches(pattern_tokens(p), "*") for p in self.patterns)
        return hit != self.negated

    def describe(self) -> str:
        shown = ", ".join(self.patterns[:4]) + (" …" if len(self.patterns) > 4 else "")
        return f"NotResource {shown}" if self.negated else shown


def realizable(universe: Sequence[Token], specs: Sequence[Spec]) -> dict[tuple[bool, ...], str]:
    """Every combination of memberships (one per spec) that some resource of the universe has,
    each with the shortest such resource as a witness."""
    for s in specs:
        for p in s.patterns:
            if len(p) > MAX_PATTERN:
                raise TooComplex(f"a resource pattern is longer than any ARN ({len(p)} characters)")
    languages = [universe, *(tuple(pattern_tokens(p)) for s in specs for p in s.patterns)]
    symbols = alphabet(languages)
    uni = automaton([universe], symbols)
    autos = [automaton([pattern_tokens(p) for p in s.patterns], symbols) for s in specs]
    negated = [s.negated for s in specs]
    start = (uni.init, *(a.init for a in autos))
    seen = {start: ""}
    queue = [start]
    found: dict[tuple[bool, ...], str] = {}
    head = 0
    while head < len(queue):
        state = queue[head]
        head += 1
        if state[0] & uni.accept:
            vec = tuple(
                bool(st & a.accept) != neg for st, a, neg in zip(state[1:], autos, negated, strict=True)
            )
            found.setdefault(vec, seen[state])
            if len(found) == 1 << len(specs):
                break
        for sym in range(len(symbols)):
            u = uni.step(state[0], sym)
            if not u:
                continue
            nxt = (u, *(a.step(st, sym) for st, a in zip(state[1:], autos, strict=True)))
            if nxt not in seen:
                seen[nxt] = seen[state] + symbols[sym]
                queue.append(nxt)
                if len(queue) > _MAX_STATES:
                    raise TooComplex("resource patterns too complex to decide")
    return found
