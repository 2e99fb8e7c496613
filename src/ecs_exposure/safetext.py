"""Text from the inputs, made safe to show on a terminal.

Names, values and file names come from files and APIs an attacker may write: an ANSI escape
(``\\x1b[2J``) can rewrite the screen or hide a finding, a carriage return or a newline can forge or
split a report line, and a bidirectional override (U+202E) can make a name read backwards. Every
such character — C0 and C1 controls, DEL, Unicode format characters (bidi controls, zero-width
characters, the BOM), line and paragraph separators, and lone surrogates (undecodable bytes of a
file name) — is shown as a visible escape: ``\\x1b``, ``\\n``, ``\\u202e``. The terminal table and
every line on stderr go through :func:`escape`; the JSON report keeps the text as it is (JSON
escapes controls itself, and a program reading it needs the exact value).
"""

from __future__ import annotations

import re

# Unicode categories Cc, Cf, Zl, Zp and Cs (a test checks this against unicodedata)
_UNSAFE = re.compile(
    "["
    "\x00-\x1f\x7f-\x9f"  # C0, DEL, C1
    "\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e"
    "\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f"  # zero-width, separators, bidi
    "\ud800-\udfff"  # lone surrogates: bytes of a file name that are not UTF-8
    "\ufeff\ufff9-\ufffb"
    "\U000110bd\U000110cd\U00013430-\U0001343f\U0001bca0-\U0001bca3\U0001d173-\U0001d17a"
    "\U000e0001\U000e0020-\U000e007f"
    "]"
)
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _visible(m: re.Match[str]) -> str:
    c = m.group()
    named = _NAMED.get(c)
    if named is not None:
        return named
    n = ord(c)
    if n < 0x100:
        return f"\\x{n:02x}"
    if 0xDC80 <= n <= 0xDCFF:  # a byte that was not UTF-8, decoded with surrogateescape
        return f"\\x{n - 0xDC00:02x}"
    return f"\\u{n:04x}" if n < 0x10000 else f"\\U{n:08x}"


def escape(text: str) -> str:
    """``text`` with every control, format and separator character shown as an escape. Text
    without any is returned as it is (the common case costs one regular-expression search)."""
    if _UNSAFE.search(text) is None:
        return text
    return _UNSAFE.sub(_visible, text)
