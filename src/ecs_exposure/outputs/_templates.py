"""The Jinja2 environment of the HTML and Markdown formats: autoescape on for both (GitHub renders
HTML inside Markdown, so a resource name must never become markup), plus Markdown-aware filters."""

from __future__ import annotations

import html
import re
from functools import cache

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup, escape

from ._common import printable

# mid-line Markdown: emphasis, code, links, tables, strikethrough, and GitHub's @mentions / #refs
_MD_SPECIAL = re.compile(r"([\\`*_\[\]|~@#])")


def md(value: object) -> Markup:
    """Text for Markdown: control characters escaped, Markdown punctuation backslashed, HTML escaped,
    one line (a newline would end a table row)."""
    text = printable(str(value)).replace("\r", " ")
    return Markup(html.escape(_MD_SPECIAL.sub(r"\\\1", text), quote=False))


def code(value: object) -> Markup:
    """An inline code span: nothing inside is Markdown or HTML, only ``|`` (a table cell) and the
    backtick fence need care."""
    text = printable(str(value)).replace("|", "\\|")
    fence = "``" if "`" in text else "`"
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return Markup(f"{fence}{pad}{text}{pad}{fence}")


def doc(value: object) -> Markup:
    """Trait documentation, written in Markdown by the project: kept as Markdown (one line),
    only HTML-escaped."""
    return Markup(html.escape(printable(str(value)), quote=False))


_CODE = re.compile(r"`([^`]+)`")
_BOLD = re.compile(r"\*\*([^*]+)\*\*")


def doc_html(value: object) -> Markup:
    """Trait documentation (the project's own Markdown: code spans and bold) as HTML."""
    text = str(escape(printable(str(value))))
    text = _CODE.sub(r"<code>\1</code>", text)
    return Markup(_BOLD.sub(r"<strong>\1</strong>", text))


_SEPARATOR = re.compile(r"([:/])")


def wbr(value: object) -> Markup:
    """An ARN or path that may wrap only after its separators (``<wbr>``), never inside a name."""
    return Markup(_SEPARATOR.sub(r"\1<wbr>", str(escape(printable(str(value))))))


@cache
def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("ecs_exposure.outputs", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["md"] = md
    env.filters["code"] = code
    env.filters["doc"] = doc
    env.filters["doc_html"] = doc_html
    env.filters["wbr"] = wbr
    env.filters["printable"] = printable
    return env
