"""``ecs-exposure traits``: the traits ecs-exposure detects, from the registry."""

from __future__ import annotations

import argparse
import sys

from .. import docs
from .common import EXIT_OK

NAME = "traits"


def register(sub: argparse._SubParsersAction, description: str, epilog: str) -> None:
    t = sub.add_parser(NAME, help="list the traits ecs-exposure detects")
    t.add_argument("-f", "--format", choices=("text", "markdown", "json"), default="text")
    t.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    render = {"text": docs.traits_text, "markdown": docs.traits_markdown, "json": docs.traits_json}
    sys.stdout.write(render[args.format]())
    return EXIT_OK
