"""Reading one JSON document (plain or gzip) with errors that name the file and never its content.

Reading is bounded: only regular files are opened (a FIFO, a socket or a device is reported without
being opened, so a named pipe called ``x.json`` cannot hang a scan and ``/dev/zero`` cannot fill the
memory), a file larger than the per-file limit is reported without being read, and a gzip file is
decompressed in bounded steps, so one whose content exceeds the limit (a gzip bomb) is reported
too. The limit is :data:`DEFAULT_MAX_FILE_SIZE` unless a caller sets another for a block of work
(:func:`file_size_limit`, the CLI's ``--max-file-size``) or passes one.
"""

from __future__ import annotations

import gzip
import os
import stat
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

import orjson

from .reader import JSON

# 256 MiB: a snapshot of about 30,000 services (10,000 services take 82 MB of JSON and 0.7 GB of
# memory to scan). Larger inputs need --max-file-size.
DEFAULT_MAX_FILE_SIZE = 256 * 1024 * 1024
_LIMIT: ContextVar[int] = ContextVar("max_file_size", default=DEFAULT_MAX_FILE_SIZE)
_CHUNK = 1 << 20
_O_FLAGS = (
    os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)
)


class SourceError(Exception):
    """A file that cannot be read as JSON at all. The message names no value from the file."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path
        self.message = message


class NotAFile(SourceError):
    """A path that is not a regular file (FIFO, socket, device): skipped in a directory, an error
    when named explicitly. It is never opened."""


@contextmanager
def file_size_limit(limit: int) -> Iterator[None]:
    """Read files of up to ``limit`` bytes (decompressed) within this block."""
    token = _LIMIT.set(limit)
    try:
        yield
    finally:
        _LIMIT.reset(token)


def max_file_size() -> int:
    return _LIMIT.get()


def size_text(n: int) -> str:
    """``268435456`` → ``256 MiB``; exact bytes under 1 KiB."""
    if n < 1024:
        return f"{n} bytes"
    for unit in ("KiB", "MiB", "GiB", "TiB"):
        n /= 1024  # type: ignore[assignment]
        if n < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if float(n).is_integer() else f"{n:.1f} {unit}"
    raise AssertionError("unreachable")


def display_path(path: Path) -> str:
    """The path as the user would recognise it: relative to the working directory when inside it.
    Symbolic links are not resolved: a message about a link names the link."""
    absolute = os.path.abspath(path)
    try:
        return Path(absolute).relative_to(os.getcwd()).as_posix()
    except ValueError:
        return path.as_posix()


_KINDS = (
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISDIR, "a directory"),
)


def file_kind(mode: int) -> str:
    for test, name in _KINDS:
        if test(mode):
            return name
    return f"file type {stat.S_IFMT(mode):o}"


def _why(e: OSError) -> str:
    return e.strerror or e.__class__.__name__


def _fill(read_into: Callable[[memoryview], int | None], hint: int, limit: int) -> bytearray | None:
    """Everything ``read_into`` gives, or None as soon as it is more than ``limit`` bytes. Memory
    stays within the limit (plus one chunk) whatever the source claims or holds."""
    buf = bytearray(min(hint, limit) + 1)
    n = 0
    while True:
        if n == len(buf):
            if n > limit:
                return None
            buf.extend(bytes(min(max(n, _CHUNK), limit + 1 - n)))
        got = read_into(memoryview(buf)[n : n + _CHUNK])  # in steps: a decompressor's copy stays small
        if not got:
            break
        n += got
    if n > limit:
        return None
    del buf[n:]
    return buf


def _read_regular(path: Path, shown: str, limit: int) -> bytearray:
    try:
        before = os.stat(path)
    except FileNotFoundError:
        if os.path.islink(path):
            raise SourceError(shown, f"broken symbolic link (to {os.readlink(path)})") from None
        raise SourceError(shown, "no such file or directory") from None
    except OSError as e:
        raise SourceError(shown, f"cannot read: {_why(e)}") from None
    if not stat.S_ISREG(before.st_mode):
        raise NotAFile(shown, f"not a regular file: {file_kind(before.st_mode)}")
    if before.st_size > limit:
        raise SourceError(
            shown,
            f"{size_text(before.st_size)}, over the limit of {size_text(limit)} per file: not read "
            "(--max-file-size raises it)",
        )
    try:
        fd = os.open(path, _O_FLAGS)
    except OSError as e:
        raise SourceError(shown, f"cannot read: {_why(e)}") from None
    try:
        now = os.fstat(fd)
        if not stat.S_ISREG(now.st_mode) or (now.st_dev, now.st_ino) != (before.st_dev, before.st_ino):
            raise SourceError(shown, "replaced while being opened: not read")
        with os.fdopen(fd, "rb", buffering=0, closefd=False) as f:
            data = _fill(f.readinto, before.st_size, limit)
    except OSError as e:
        raise SourceError(shown, f"cannot read: {_why(e)}") from None
    finally:
        os.close(fd)
    if data is None:
        raise SourceError(shown, f"grew over the limit of {size_text(limit)} per file while read: not read")
    return data


def _gunzip(data: bytearray, shown: str, limit: int) -> bytearray:
    # the size the trailer claims (modulo 4 GiB) is only a hint for the first allocation
    hint = int.from_bytes(data[-4:], "little") if len(data) >= 4 else 0
    try:
        with gzip.GzipFile(fileobj=_BytesReader(data), mode="rb") as g:
            out = _fill(g.readinto, hint, limit)
    except (OSError, EOFError, zlib.error) as e:
        raise SourceError(shown, f"not a valid gzip file ({e.__class__.__name__})") from None
    if out is None:
        raise SourceError(
            shown,
            f"decompresses to more than the limit of {size_text(limit)} per file: not read "
            "(a gzip bomb? --max-file-size raises the limit)",
        )
    return out


class _BytesReader:
    """A read-only file over a bytearray, without the copy io.BytesIO makes."""

    def __init__(self, data: bytearray) -> None:
        self._view = memoryview(data)
        self._pos = 0

    def read(self, size: int = -1) -> bytes:
        end = len(self._view) if size is None or size < 0 else min(len(self._view), self._pos + size)
        chunk = bytes(self._view[self._pos : end])
        self._pos = end
        return chunk

    def seek(self, offset: int, whence: int = 0) -> int:
        base = (0, self._pos, len(self._view))[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def tell(self) -> int:
        return self._pos

    def close(self) -> None:
        self._view.release()


def read_bytes(path: Path, shown: str, max_size: int | None = None) -> bytes | bytearray:
    """A regular file's content, within the size limit, decompressed when it is gzip; without a
    UTF-8 byte-order mark. :class:`NotAFile` for a FIFO, device …; :class:`SourceError` otherwise."""
    limit = max_file_size() if max_size is None else max_size
    try:
        data = _read_regular(path, shown, limit)
        if path.name.endswith(".gz") or data[:2] == b"\x1f\x8b":
            data = _gunzip(data, shown, limit)
    except MemoryError:
        raise SourceError(shown, "not enough memory to read it: not read") from None
    return data[3:] if data.startswith(b"\xef\xbb\xbf") else data


def read_json(path: Path, shown: str, max_size: int | None = None) -> JSON:
    limit = max_file_size() if max_size is None else max_size
    try:
        data = _read_regular(path, shown, limit)
        if path.name.endswith(".gz") or data[:2] == b"\x1f\x8b":
            data = _gunzip(data, shown, limit)
        view = memoryview(data)
        if data.startswith(b"\xef\xbb\xbf"):
            view = view[3:]
        return orjson.loads(view)
    except orjson.JSONDecodeError as e:
        # e.msg is orjson's description of the syntax error; it quotes no input text
        if "utf-8" in str(e).lower() or "utf8" in str(e).lower():
            raise SourceError(shown, "not UTF-8 text") from None
        if "memory" in str(e).lower():
            raise SourceError(shown, "not enough memory to read it: not read") from None
        raise SourceError(shown, f"invalid JSON at line {e.lineno} column {e.colno}: {e.msg}") from None
    except MemoryError:
        raise SourceError(shown, "not enough memory to read it: not read") from None
