"""Is this value a credential? Spec §4, each environment entry on its own, name *and* value.

Three kinds of rule, tried in order:

1. value shape, whatever the name (AWS access key ids, PEM private keys, URLs with a password,
   well-known token formats);
2. the AWS configuration names (``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``,
   ``ECS_ENGINE_AUTH_DATA``) with a non-empty literal value;
3. a credential word in the name (case-insensitive, split on ``_ - .`` and camelCase) *and* a value
   that looks like a secret: not a flag, a reference, a placeholder or a path, and a name that is
   not a pointer to a secret (``…_ARN``, ``…_FILE``, ``…_URL`` …).

Nothing here returns or stores the value: a match says which rule fired and whether it is a cloud
(AWS) credential, and callers fingerprint the value themselves.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .model import Environment, EnvVar


@dataclass(frozen=True, slots=True)
class Match:
    rule: str
    cloud: bool = False  # an AWS credential: raises likelihood to High

    @property
    def description(self) -> str:
        return RULE_DESCRIPTIONS.get(self.rule, self.rule)


RULE_DESCRIPTIONS = {
    "aws-access-key-id": "AWS access key id",
    "aws-secret-access-key": "AWS secret access key (next to an access key id)",
    "aws-config-name": "AWS credential variable with a literal value",
    "private-key": "PEM private key",
    "url-credentials": "URL with an embedded password",
    "github-token": "GitHub token",
    "gitlab-token": "GitLab personal access token",
    "slack-token": "Slack token",
    "slack-webhook": "Slack incoming webhook URL",
    "stripe-key": "Stripe live secret key",
    "google-api-key": "Google API key",
    "npm-token": "npm access token",
    "sendgrid-key": "SendGrid API key",
    "jwt": "JSON Web Token",
    "credential-name": "credential name with a literal value",
    "literal-secret-reference": "secrets[].valueFrom holds a literal value, not an ARN or parameter name",
}

# --------------------------------------------------------------------------- 1. value shapes

_SHAPES: tuple[tuple[str, str], ...] = (
    ("aws-access-key-id", r"(?<![A-Z0-9])(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}(?![A-Z0-9])"),
    ("private-key", r"-----BEGIN[ A-Z0-9]*PRIVATE KEY-----"),
    ("github-token", r"\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,})"),
    ("gitlab-token", r"\bglpat-[A-Za-z0-9_-]{20,}"),
    ("slack-token", r"\bxox[abposr]-[A-Za-z0-9-]{10,}"),
    ("slack-webhook", r"hooks\.slack\.com/services/T[A-Z0-9]+/B[A-Z0-9]+/[A-Za-z0-9]{16,}"),
    ("stripe-key", r"\b[sr]k_live_[A-Za-z0-9]{16,}"),
    ("google-api-key", r"\bAIza[0-9A-Za-z_-]{35}"),
    ("npm-token", r"\bnpm_[A-Za-z0-9]{36}"),
    ("sendgrid-key", r"\bSG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}"),
    ("jwt", r"\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}"),
    ("url-credentials", r"[A-Za-z][A-Za-z0-9+.-]*://[^\s/:@]+:(?P<pw>[^\s/@]+)@"),
)
_SHAPE_RE = re.compile("|".join(f"(?P<{rule.replace('-', '_')}>{rx})" for rule, rx in _SHAPES))
_CLOUD_RULES = {"aws-access-key-id", "aws-secret-access-key", "aws-config-name"}
_AWS_SECRET_SHAPE = re.compile(r"^[A-Za-z0-9/+]{40}$")


# cheap literal triggers: a value without any of them cannot match a shape (checked in tests)
_TRIGGER = re.compile(
    r"AKIA|ASIA|ABIA|ACCA|-----BEGIN|gh[pousr]_|github_pat_|glpat-|xox[abposr]-|hooks\.slack\.com|k_live_"
    r"|AIza|npm_|SG\.|eyJ|://[^\s/@]*:[^\s/@]*@"
)


def match_shape(value: str) -> Match | None:
    if _TRIGGER.search(value) is None:
        return None
    for m in _SHAPE_RE.finditer(value):
        rule = m.lastgroup
        if rule == "pw":  # the inner group of url-credentials is never the last one
            rule = "url_credentials"
        assert rule is not None
        rule = rule.replace("_", "-")
        if rule == "url-credentials" and not _looks_secret(m.group("pw"), strong=True):
            continue  # postgres://user:${DB_PASSWORD}@host is a template, not a password
        return Match(rule, rule in _CLOUD_RULES)
    return None


# --------------------------------------------------------------------------- 2/3. names

_AWS_CONFIG_NAMES = {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "ECS_ENGINE_AUTH_DATA"}

_NAME_HINT = re.compile(r"pass|pwd|secret|token|key|auth|cred|private", re.IGNORECASE)
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_SPLIT = re.compile(r"[^A-Za-z0-9]+")

_WORDS = {
    "password",
    "passwd",
    "pwd",
    "pass",
    "passphrase",
    "passcode",
    "secret",
    "secrets",
    "token",
    "apikey",
    "credential",
    "credentials",
    "creds",
    "auth",
    "authorization",
    "privatekey",
    "accesskey",
    "secretkey",
    "clientsecret",
    "masterkey",
    "encryptionkey",
    "signingkey",
    "pin",
}
_STRONG = {"password", "passwd", "pwd", "pass", "passphrase", "passcode", "secret", "pin"}
_SUFFIX_WORDS = ("password", "passwd", "secret", "token", "apikey", "secretkey", "privatekey")
_KEY_QUALIFIERS = {
    "api",
    "private",
    "access",
    "secret",
    "encryption",
    "signing",
    "master",
    "license",
    "app",
    "auth",
    "account",
    "shared",
    "hmac",
    "session",
    "client",
    "service",
    "jwt",
    "webhook",
}
# a name ending with one of these points at a secret or describes it: it does not hold one
_POINTER_TAILS = {
    "arn",
    "file",
    "files",
    "path",
    "name",
    "id",
    "ids",
    "url",
    "uri",
    "endpoint",
    "host",
    "hostname",
    "port",
    "length",
    "len",
    "ttl",
    "enabled",
    "enable",
    "disabled",
    "disable",
    "type",
    "mode",
    "method",
    "header",
    "region",
    "expiry",
    "expiration",
    "expires",
    "timeout",
    "interval",
    "seconds",
    "secs",
    "minutes",
    "minute",
    "hours",
    "days",
    "count",
    "size",
    "limit",
    "max",
    "min",
    "version",
    "algorithm",
    "alg",
    "dir",
    "directory",
    "prefix",
    "suffix",
    "format",
    "location",
    "issuer",
    "audience",
    "scope",
    "scopes",
    "realm",
    "provider",
    "strategy",
    "backend",
    "server",
    "domain",
    "user",
    "username",
    "login",
    "policy",
    "rotation",
    "required",
    "lifetime",
    "duration",
    "retries",
    "bucket",
    "table",
    "param",
    "parameter",
    "ref",
    "reference",
    "source",
    "store",
    "vault",
    "field",
    "env",
    "var",
    "variable",
    "kind",
    "class",
    "level",
    "flag",
}
_NOT_HOLDERS = (("allow", "empty"), ("random", "root"), ("generate",), ("skip",), ("require",))

_FLAGS = {"yes", "no", "true", "false", "0", "1", "on", "off", "y", "n", "enabled", "disabled"}
_PLACEHOLDER_WORDS = {
    "none",
    "null",
    "nil",
    "undefined",
    "notset",
    "not_set",
    "not-set",
    "unset",
    "tbd",
    "todo",
    "placeholder",
    "replace_me",
    "replaceme",
    "replace-me",
    "redacted",
    "empty",
    "n/a",
    "na",
    "-",
}
_REFERENCE = re.compile(
    r"""^(?:arn:aws[a-z-]*:
         |(?:ssm|secretsmanager|secrets-manager|aws-sm|vault|kms|env|file|ref|op|gcp-sm|azure-kv):
         |(?:/|\./|\.\./|~/)\S*$
         |[A-Za-z][A-Za-z0-9+.-]*://(?![^\s/@]*:[^\s/@]*@)
        )""",
    re.VERBOSE,
)
_PLACEHOLDER = re.compile(
    r"""(?:\$\{[^}]*\}|\{\{[^}]*\}\}|\$\([^)]*\)|\#\{[^}]*\})   # ${X} {{resolve:..}} $(cmd) #{x}
      |^<[^<>]+>$|^\{[A-Za-z0-9_.-]+\}$|^%[A-Za-z0-9_]+%$|^\$+[A-Za-z_][A-Za-z0-9_]*\$*$
      |^[*xX.•]{3,}$
      |^(?:[A-Z][A-Z0-9]*_)+[A-Z0-9]+$                           # MY_ACCESS_TOKEN
    """,
    re.VERBOSE,
)
_SHORT_NUMBER = re.compile(r"^\d{1,6}$")


def name_tokens(name: str) -> list[str]:
    return [t.lower() for t in _SPLIT.split(_CAMEL.sub("_", name)) if t]


def _credential_word(tokens: Sequence[str]) -> str | None:
    for i, t in enumerate(tokens):
        if t in _WORDS:
            return t
        if t == "key" and i > 0 and tokens[i - 1] in _KEY_QUALIFIERS:
            return f"{tokens[i - 1]}_key"
        if len(t) > 6 and t.endswith(_SUFFIX_WORDS):
            return t
    return None


def _is_pointer_name(tokens: Sequence[str]) -> bool:
    last = tokens[-1]
    if last == "id" and "key" in tokens and ("access" in tokens or "accesskey" in tokens):
        return False  # an access key id is itself a credential
    if last in _POINTER_TAILS:
        return True
    return any(all(w in tokens for w in group) for group in _NOT_HOLDERS)


def _looks_secret(value: str, strong: bool) -> bool:
    v = value.strip()
    if not v:
        return False
    low = v.lower()
    if low in _FLAGS or low in _PLACEHOLDER_WORDS:
        return False
    if _REFERENCE.match(v) or _PLACEHOLDER.search(v):
        return False
    return not (_SHORT_NUMBER.match(v) and not strong)


@dataclass(frozen=True, slots=True)
class _NameInfo:
    aws_config: bool  # one of the AWS configuration names: any literal value fires
    word: str | None  # the credential word in the name, None when it has none or points at a secret
    cloud: bool


_NO_NAME = _NameInfo(False, None, False)
_NAME_CACHE: dict[str, _NameInfo] = {}
_NAME_CACHE_MAX = 200_000


def _name_info(name: str) -> _NameInfo:
    """What the name alone says. Names repeat across an estate (LOG_LEVEL, DB_HOST …): cached."""
    info = _NAME_CACHE.get(name)
    if info is not None:
        return info
    if name.upper() in _AWS_CONFIG_NAMES:
        info = _NameInfo(True, None, name.upper() != "ECS_ENGINE_AUTH_DATA")
    elif not _NAME_HINT.search(name):
        info = _NO_NAME
    else:
        tokens = name_tokens(name)
        word = _credential_word(tokens) if tokens else None
        if word is None or _is_pointer_name(tokens):
            info = _NO_NAME
        else:
            cloud = "aws" in tokens and any(
                t in ("secret", "secretkey", "session", "accesskey") or t.endswith("secret") for t in tokens
            )
            info = _NameInfo(False, word, cloud)
    if len(_NAME_CACHE) < _NAME_CACHE_MAX:
        _NAME_CACHE[name] = info
    return info


def classify(name: str, value: str) -> Match | None:
    """The rule that makes ``name=value`` a credential, or None."""
    if not value:
        return None
    shape = match_shape(value)
    if shape is not None:
        return shape
    info = _name_info(name)
    if info.aws_config:
        v = value.strip()
        if v and not _REFERENCE.match(v) and not _PLACEHOLDER.search(v):
            return Match("aws-config-name", cloud=info.cloud)
        return None
    if info.word is None or not _looks_secret(value, strong=info.word in _STRONG):
        return None
    return Match("credential-name", info.cloud)


def is_credential_name(name: str) -> bool:
    """The name alone says the variable holds a credential (``DB_PASSWORD``, ``AWS_SECRET_ACCESS_KEY``),
    not a pointer to one (``DB_PASSWORD_FILE``): for a value the input leaves open."""
    info = _name_info(name)
    return info.aws_config or info.word is not None


def environment_matches(env: Environment) -> list[tuple[EnvVar, Match]]:
    """Credentials among one container's environment entries, in list order."""
    found: list[tuple[int, Match]] = []
    access_key = False
    for position, name, value in env.reveal_pairs():
        m = classify(name, value)
        if m is not None:
            found.append((position, m))
            access_key |= m.rule == "aws-access-key-id"
    if access_key:
        # an AWS secret key has no shape of its own; next to an access key id a 40-character
        # base64 value is one
        seen = {p for p, _ in found}
        for position, _, value in env.reveal_pairs():
            if position not in seen and _AWS_SECRET_SHAPE.match(value):
                found.append((position, Match("aws-secret-access-key", cloud=True)))
        found.sort(key=lambda x: x[0])
    return [(env.entry(p), m) for p, m in found]


# --------------------------------------------------------------------------- free text

_ASSIGNMENT = re.compile(
    r"""(?:^|[\s;&|(])-{0,2}(?P<name>[A-Za-z_][A-Za-z0-9_.-]*)\s*[=:]\s*
        (?P<value>"[^"]*"|'[^']*'|[^\s;&|'")]+)""",
    re.VERBOSE,
)


def text_matches(text: str) -> Iterable[tuple[str | None, str, Match]]:
    """Credentials inside free text (a command argument, a label): (name, matched text, rule).

    Finds value shapes anywhere, and ``NAME=value`` / ``--name=value`` assignments whose name is a
    credential name. The matched text is returned for fingerprinting only.
    """
    shape = match_shape(text)
    if shape is not None:
        yield None, text, shape
        return
    for m in _ASSIGNMENT.finditer(text):
        name, value = m.group("name"), m.group("value").strip("'\"")
        found = classify(name, value)
        if found is not None:
            yield name, value, found


_PARAMETER_NAME = re.compile(r"^[A-Za-z0-9_.\-/]+$")


def literal_secret_reference(value_from: str) -> Match | None:
    """A ``secrets[].valueFrom`` that holds a secret rather than naming one.

    ARNs and SSM parameter names are references. A value that matches a credential shape, or that
    has characters a parameter name cannot have, is a literal (``hunter2`` alone is
    indistinguishable from a parameter name and is not reported).
    """
    v = value_from.strip()
    if not v or v.startswith("arn:") or _PLACEHOLDER.search(v):
        return None
    shape = match_shape(v)
    if shape is not None:
        return shape
    if not _PARAMETER_NAME.match(v):
        return Match("literal-secret-reference")
    return None
