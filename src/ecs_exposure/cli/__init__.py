"""Command line: arguments → objects, files and exit codes. No scanning logic lives here.

One module per sub-command, each with ``NAME``, ``register(sub, description, epilog)`` (its part of
the parser; it sets ``run``) and ``run(args) -> int``. Adding a sub-command means adding a module
and naming it in ``COMMANDS``.

Exit codes: 0 no finding at or above ``--fail-on`` (or no ``--fail-on``) and a complete scan;
1 a finding at or above ``--fail-on``; 2 usage or fatal error; 3 the scan is incomplete (an
input could not be read, a snapshot records failed API calls, or a detector failed).
"""

from __future__ import annotations

import argparse
import sys

from .. import __version__
from . import collect, fix, publish, rollback, scan, traits
from .common import EXIT_OK, EXIT_USAGE, Parser, example_path

COMMANDS = (scan, collect, fix, rollback, publish, traits)

DESCRIPTION = """\
Find exposure in Amazon ECS: misconfigured task definitions, internet reachability, plaintext
credentials, vulnerable images and over-powerful roles, correlated into one rated finding per
service; then plan, apply and roll back the fix."""

EPILOG = """\
exit codes:
  0  scan complete, no finding at or above --fail-on
  1  a finding at or above --fail-on
  2  usage or fatal error
  3  scan incomplete: an input could not be read or an API call had failed (see stderr)

examples:
  ecs-exposure scan --example
  ecs-exposure scan taskdef.json infra/ --format json --output findings.json
  ecs-exposure scan snapshot.json.gz --fail-on high
  ecs-exposure scan taskdef.json --vulns trivy.json --vulns grype.json --kev kev.json
  ecs-exposure collect --aws --region eu-west-1 --output estate.json.gz
  ecs-exposure scan --aws --all-regions --role-arn arn:aws:iam::111122223333:role/audit --stats
"""


def build_parser() -> argparse.ArgumentParser:
    p = Parser(
        prog="ecs-exposure",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--version", action="version", version=f"ecs-exposure {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    for command in COMMANDS:
        command.register(sub, DESCRIPTION, EPILOG)
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return EXIT_USAGE
    try:
        return args.run(args)
    except KeyboardInterrupt:
        print("ecs-exposure: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return EXIT_OK
    except Exception as e:
        if getattr(args, "debug", False):
            raise
        print(
            f"ecs-exposure: internal error ({e.__class__.__name__}); run with --debug for details",
            file=sys.stderr,
        )
        return EXIT_USAGE


__all__ = ["COMMANDS", "build_parser", "example_path", "main"]
