"""Reading one JSON document (plain or gzip) with errors that name the file and never its content."""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path

import orjson

from .reader import JSON


class SourceError(Exception):
    """A file that cannot be read as JSON at all. The message names no value from the file."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path
        self.message = message


def display_path(path: Path) -> str:
    """The path as the user would recognise it: relative to the working directory when inside it."""
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def read_json(path: Path, shown: str) -> JSON:
    try:
        data = path.read_bytes()
    except OSError as e:
        raise SourceError(shown, f"cannot read: {e.strerror or e.__class__.__name__}") from None
    if path.name.endswith(".gz") or data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as e:
            raise SourceError(shown, f"not a valid gzip file ({e.__class__.__name__})") from None
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as e:
        # e.msg is orjson's description of the syntax error; it quotes no input text
        if "utf-8" in str(e).lower() or "utf8" in str(e).lower():
            raise SourceError(shown, "not UTF-8 text") from None
        raise SourceError(shown, f"invalid JSON at line {e.lineno} column {e.colno}: {e.msg}") from None
