"""Values built to make a backtracking rule quadratic (or worse), one or more per rule.

Shared by ``tests/test_credentials.py`` (each must scan in well under 2 s at 1 MB) and
``benchmarks/credentials_benchmark.py`` (timings, old and new side by side).
"""

from __future__ import annotations

from collections.abc import Callable

MB = 1_000_000


def rep(unit: str, size: int) -> str:
    """``unit`` repeated to exactly ``size`` characters."""
    return (unit * (size // len(unit) + 1))[:size]


def distinct(template: str, size: int) -> str:
    """``template % i`` for i = 0, 1, … to ``size`` characters: no two pieces alike."""
    parts, total, i = [], 0, 0
    while total < size:
        piece = template % i
        parts.append(piece)
        total += len(piece)
        i += 1
    return "".join(parts)[:size]


# (rule attacked, what the value is, builder(size) -> value)
ADVERSARIAL: list[tuple[str, str, Callable[[int], str]]] = [
    ("url-credentials", "a scheme then colons (issue #9)", lambda n: "a://" + ":" * n),
    ("url-credentials", "one run of scheme characters", lambda n: "a" * n),
    ("url-credentials", "URL starts", lambda n: rep("a://", n)),
    ("url-credentials", "user:password pairs, no host", lambda n: "a://" + rep("a:", n)),
    ("url-credentials", "colons and @ in one authority", lambda n: "a://" + rep(":@", n)),
    ("url-credentials", "URLs with empty credentials", lambda n: rep("a://:@", n)),
    ("connection-string", "password keys", lambda n: rep(";pwd=", n)),
    ("connection-string", "query keys with long values", lambda n: rep("?password=" + "x" * 300, n)),
    ("connection-string", "quotes never closed", lambda n: rep(';Password="', n)),
    ("connection-string", "ODBC braces never closed", lambda n: rep(";Pwd={", n)),
    ("connection-string", "flag values", lambda n: rep("&pwd=yes", n)),
    ("connection-string", "template values", lambda n: rep(";Password=${X}", n)),
    ("connection-string", "distinct template values", lambda n: distinct(";Password=${X%d}", n)),
    ("connection-string", "server keys", lambda n: rep(";Server=", n)),
    ("connection-string", "Oracle thin prefixes", lambda n: rep("jdbc:oracle:thin:a/", n)),
    ("jwt", "token starts after dashes", lambda n: rep("eyJ-", n)),
    ("jwt", "one segment, no dot", lambda n: "eyJ" + "a" * n),
    ("jwt", "two segments, no signature", lambda n: rep("eyJaaaaaaaaaaa.eyJbbbbbbbbbbb.", n)),
    ("private-key", "BEGIN then spaces", lambda n: "-----BEGIN" + " " * n),
    ("private-key", "BEGINs", lambda n: rep("-----BEGIN A", n)),
    ("slack-webhook", "a long team id", lambda n: "hooks.slack.com/services/T" + "A" * n),
    ("github-token", "prefixes", lambda n: rep("ghp_", n)),
    ("gitlab-token", "prefixes", lambda n: rep("glpat-", n)),
    ("aws-access-key-id", "prefixes", lambda n: rep("AKIA", n)),
    ("template", "${ never closed", lambda n: rep("${", n)),
    ("template", "{{ never closed", lambda n: rep("{{", n)),
    ("template", "$( never closed", lambda n: rep("$(", n)),
    ("template", "< never closed", lambda n: "<" * n),
    ("template", "$NAMEs then a literal", lambda n: rep("$A", n) + "!"),
    ("template", "a mask then a literal", lambda n: "*" * n + "a"),
    ("password-hash", "bcrypt prefixes", lambda n: rep("$2b$", n)),
    ("password-hash", "htpasswd users", lambda n: rep("u:$apr1$,", n)),
    ("reference", "a path with a space at the end", lambda n: "/" + "a" * n + " x"),
    ("reference", "an ARN prefix", lambda n: "arn:aws" + "-" * n),
    ("echo", "name-like words", lambda n: rep("A_", n)),
    ("assignment", "assignments", lambda n: rep(" a=", n)),
    ("assignment", "credential assignments, quotes never closed", lambda n: rep(' password="', n)),
    ("assignment", "credential assignments, $( never closed", lambda n: rep(" password=$(", n)),
    ("assignment", "nested echo substitutions", lambda n: " password=" + rep("$(echo ", n)),
    ("assignment", "backticks never closed", lambda n: rep(" token=`", n)),
    ("assignment", "a long option name", lambda n: "--" + "a" * n + "=x"),
    ("assignment", "blanks before =", lambda n: " password" + " " * n + "=x"),
    ("assignment", "auth schemes", lambda n: rep(" Authorization: Bearer ", n)),
    ("embedded-credential", "-D options with template values", lambda n: rep(" -Dp.password=${X}", n)),
    ("embedded-credential", "flags", lambda n: rep(" password=no", n)),
    ("embedded-credential", "distinct placeholders", lambda n: distinct(" -Dp.password=${X%d}", n)),
    ("assignment", "distinct command substitutions", lambda n: distinct(" --token=$(cat /s/%d)", n)),
]

# names: the tokeniser and the name prefilter
ADVERSARIAL_NAMES: list[tuple[str, Callable[[int], str]]] = [
    ("one run of letters", lambda n: "a" * n),
    ("camelCase humps", lambda n: rep("aB", n)),
    ("capitals", lambda n: rep("ABc", n)),
    ("separators", lambda n: rep("_-.", n)),
    ("credential words", lambda n: rep("PASSWORD_", n)),
]
