"""Command line: arguments → objects, files and exit codes. No scanning logic lives here.

One module per sub-command, each with ``NAME``, ``register(sub, description, epilog)`` (its part of
the parser; it sets ``run``) and ``run(args) -> int``. Adding a sub-command means adding a module
and naming it in ``COMMANDS``.

Exit codes: 0 no finding at or above ``--fail-on`` (or no ``--fail-on``) and a complete scan;
1 a finding at or above ``--fail-on``, *even when the scan is incomplete* (a CI gate that treats 3
as a warning must never pass a build with a finding over the gate; stderr and the JSON report's
``complete: false`` still say the scan was incomplete); 2 usage or fatal error (a path on the
command line that does not exist included); 3 the scan is incomplete (an input could not be read,
a snapshot records failed API calls, or a detector failed) and no finding crosses ``--fail-on``.
"""

from __future__ import annotations

import argparse
import sys

from .. import __version__
from ..fingerprint import environment_key_problem
from . import collect, diff, fix, history, publish, rollback, scan, traits
from .common import EXIT_OK, EXIT_USAGE, Parser, error, example_path

COMMANDS = (scan, collect, fix, rollback, publish, traits, history, diff)

DESCRIPTION = """\
Find exposure in Amazon ECS: misconfigured task definitions, internet reachability, plaintext
credentials, vulnerable images and over-powerful roles, correlated into one rated finding per
service; then plan, apply and roll back the fix."""

EPILOG = """\
exit codes:
  0  scan complete, no finding at or above --fail-on
  1  a finding at or above --fail-on, even if the scan is also incomplete (1 wins over 3:
     a gate that tolerates 3 must never pass a finding; stderr still says "scan incomplete"
     and the JSON report has "complete": false)
  2  usage or fatal error (a PATH that does not exist included)
  3  scan incomplete: an input could not be read or an API call had failed (see stderr)

input files: only regular files are read (a FIFO, socket or device is skipped in a directory and
an error when named); a file over --max-file-size (default 256 MiB, after decompression) is
reported and not read.

environment:
  ECS_EXPOSURE_FINGERPRINT_KEY  key of the credential fingerprints, in hex (openssl rand -hex 32);
                                share it to get the same fingerprints across a team (default: a
                                random key of this installation, in the user data directory)

examples:
  ecs-exposure scan --example
  ecs-exposure scan taskdef.json infra/ --format json --output findings.json
  ecs-exposure scan snapshot.json.gz --fail-on high
  ecs-exposure scan taskdef.json --vulns trivy.json --vulns grype.json --kev kev.json
  ecs-exposure collect --aws --region eu-west-1 --output estate.json.gz
  ecs-exposure scan --aws --all-regions --role-arn arn:aws:iam::111122223333:role/audit --stats
  ecs-exposure scan infra/ -f json -o baseline.json             # later: --baseline baseline.json
  ecs-exposure scan snapshot.json.gz --store && ecs-exposure diff  # findings history
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
    if args.command in ("scan", "fix"):  # they fingerprint credentials: a bad key is one clear line
        problem = environment_key_problem()
        if problem is not None:
            error(problem)
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
