"""Is this value a credential? Spec §4, each environment entry on its own, name *and* value.

Three kinds of rule, tried in order:

1. value shape, whatever the name: AWS access key ids, PEM private keys, well-known token formats,
   URLs with a password (``scheme://user:password@host``, ``redis://:password@host``) and
   connection strings with one (ADO.NET / ODBC ``Password=`` or ``Pwd=``, JDBC ``?password=`` /
   ``&pwd=``, Oracle ``jdbc:oracle:thin:user/password@``);
2. the AWS configuration names (``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``,
   ``ECS_ENGINE_AUTH_DATA``) with a literal value;
3. a credential word in the name (case-insensitive, split on ``_ - .`` and camelCase) *and* a value
   that looks like a secret, and a name that is not a pointer to a secret (``…_ARN``, ``…_FILE``,
   ``…_URL`` …).

A value "looks like a secret" unless it is empty, a flag (``yes``, ``0`` …), a reference (ARN,
``ssm:`` …, a path, a URL), a placeholder — entirely template syntax (``${X}``, ``{{…}}``,
``$(cmd)``, ``<your-key>``, ``{name}``, ``@x@`` …: ``Pa55word${X}`` is *not* one), a phrase that
echoes the name (``ACCESS_TOKEN=MY_ACCESS_TOKEN``, ``REPLACE_ME``, ``INSERT …``), a mask
(``****``) — or a password *hash* (bcrypt, argon2, PBKDF2, scrypt, yescrypt, sha-crypt, md5-crypt).
URLs and connection strings on the documentation domains of RFC 2606 / RFC 6761 (``example.com``,
``.net``, ``.org`` and their subdomains, ``*.example``, ``*.test``, ``*.invalid``) are examples,
not credentials. ``localhost`` is *not* one of them: a password for a sidecar on the task's
loopback is a real password.

A secret that is a well-known default (``changeme``, ``password``, ``admin``, ``postgres`` …) is a
credential anyone can guess: it is reported, with ``weak_default`` set.

Every rule runs in time linear in the length of the value, whatever the value: quantifiers are
bounded or possessive, a run of characters is only ever entered where it starts (a negative
lookbehind on the same class), and URLs, connection strings and command lines are read by small
scanners that only move forward. ``tests/test_credentials.py`` scans 1 MB adversarial values
against each rule.

Nothing here returns or stores the value: a match says which rule fired, whether it is a cloud
(AWS) credential and whether it is a weak default, and callers fingerprint the value themselves.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from urllib.parse import unquote

from .model import Environment, EnvVar


@dataclass(frozen=True, slots=True)
class Match:
    rule: str
    cloud: bool = False  # an AWS credential: raises likelihood to High
    weak_default: bool = False  # a well-known default value anyone can guess

    @property
    def description(self) -> str:
        return RULE_DESCRIPTIONS.get(self.rule, self.rule)


RULE_DESCRIPTIONS = {
    "aws-access-key-id": "AWS access key id",
    "aws-secret-access-key": "AWS secret access key (next to an access key id)",
    "aws-config-name": "AWS credential variable with a literal value",
    "private-key": "PEM private key",
    "url-credentials": "URL with an embedded password",
    "connection-string": "connection string with a password",
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
    "embedded-credential": "credential assignment inside the value (-Dx.password=…, NAME=…)",
    "literal-secret-reference": "secrets[].valueFrom holds a literal value, not an ARN or parameter name",
}

WEAK_DEFAULT = "weak-default"  # the qualifier, in evidence summaries and on the trait

# --------------------------------------------------------------------------- 1. value shapes

# Each pattern starts with its literal (so the regex engine skips to it) and is linear: bounded
# repetitions, and a lookbehind *after* the literal in place of ``\b`` before it. The JWT's
# unbounded segments are possessive and may only start where a run of token characters starts.
_SHAPES: tuple[tuple[str, str], ...] = (
    ("aws-access-key-id", r"(?:AKIA|ASIA|ABIA|ACCA)(?<![A-Z0-9]....)[A-Z0-9]{16}(?![A-Z0-9])"),
    ("private-key", r"-----BEGIN[ A-Z0-9]{0,40}PRIVATE KEY-----"),
    ("github-token", r"gh[pousr]_(?<!\wgh._)[A-Za-z0-9]{36}|github_pat_(?<!\wgithub_pat_)[A-Za-z0-9_]{22}"),
    ("gitlab-token", r"glpat-(?<!\wglpat-)[A-Za-z0-9_-]{20}"),
    ("slack-token", r"xox[abposr]-(?<!\wxox..)[A-Za-z0-9-]{10}"),
    ("slack-webhook", r"hooks\.slack\.com/services/T[A-Z0-9]{1,32}/B[A-Z0-9]{1,32}/[A-Za-z0-9]{16}"),
    ("stripe-key", r"[sr]k_live_(?<!\w.k_live_)[A-Za-z0-9]{16}"),
    ("google-api-key", r"AIza(?<!\wAIza)[0-9A-Za-z_-]{35}"),
    ("npm-token", r"npm_(?<!\wnpm_)[A-Za-z0-9]{36}"),
    ("sendgrid-key", r"SG\.(?<!\wSG\.)[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}"),
    ("jwt", r"eyJ(?<![A-Za-z0-9_-]eyJ)[A-Za-z0-9_-]{10,}+\.eyJ[A-Za-z0-9_-]{10,}+\.[A-Za-z0-9_-]{10}"),
)
# the two rules that are scanners rather than patterns (tests check each has cases)
_SCANNED_SHAPES = ("url-credentials", "connection-string")
SHAPE_RULES = tuple(rule for rule, _ in _SHAPES) + _SCANNED_SHAPES

_SHAPE_PATTERNS = tuple((rule, re.compile(rx)) for rule, rx in _SHAPES)
_CLOUD_RULES = {"aws-access-key-id", "aws-secret-access-key", "aws-config-name"}
_AWS_SECRET_SHAPE = re.compile(r"[A-Za-z0-9/+]{40}")

# Cheap literal triggers: a value without any of them cannot match a pattern shape (checked in
# tests). One pass over the value on the normal path; the scanned shapes need an "@" (URLs, Oracle)
# or a ";" / "?" (connection strings).
_TRIGGER = re.compile(
    r"AKIA|ASIA|ABIA|ACCA|-----BEGIN|gh[pousr]_|github_pat_|glpat-|xox[abposr]-|hooks\.slack\.com|k_live_"
    r"|AIza|npm_|SG\.|eyJ|@|;|\?"
)


def match_shape(value: str) -> Match | None:
    if _TRIGGER.search(value) is None:
        return None
    for rule, pattern in _SHAPE_PATTERNS:
        if pattern.search(value) is not None:
            return Match(rule, rule in _CLOUD_RULES)
    if "@" in value:
        found = _url_credentials(value) if "://" in value else None
        if found is None and "jdbc:oracle:thin:" in value:
            found = _oracle_thin(value)
        if found is not None:
            return found
    if ";" in value or "?" in value:
        return _connection_string(value)
    return None


# ----------------------------------------------------------------- URLs with a password

_SCHEME_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+.-")
# an authority (it ends at the first "/" or blank, so no two overlap) holding an "@"
_AUTHORITY_WITH_AT = re.compile(r"://(?P<auth>[^\s/@]*+(?:@[^\s/@]*+)++)")
_AUTHORITY = re.compile(r"://(?P<auth>[^\s/]*+)")
_HOST_TRIM = "\"'`<>()[]{},;"
_DOC_DOMAINS = ("example.com", "example.net", "example.org")  # RFC 2606 §3
_DOC_TLDS = ("example", "test", "invalid")  # RFC 2606 §2, RFC 6761 §6.2 and §6.4


def is_documentation_host(host: str) -> bool:
    """A host on the documentation domains of RFC 2606 / 6761: ``example.com`` (``.net``,
    ``.org``) and their subdomains, and names under ``.example``, ``.test`` or ``.invalid``.
    ``localhost`` is not one: a sidecar on the task's loopback is reached with a real password."""
    h = host.strip(_HOST_TRIM).lower().rstrip(".")
    if h.startswith("["):
        return False  # an IPv6 literal
    h = h.rpartition("@")[2]
    h = h.partition("?")[0].partition("#")[0]
    h = h.partition(":")[0] if h.count(":") <= 1 else h
    h = h.rstrip(".")
    if not h:
        return False
    if h in _DOC_DOMAINS or h.endswith(tuple("." + d for d in _DOC_DOMAINS)):
        return True
    return h.rpartition(".")[2] in _DOC_TLDS


def _hosts_are_documentation(hosts: str) -> bool:
    parts = [h for h in hosts.split(",") if h.strip(_HOST_TRIM)]
    return bool(parts) and all(is_documentation_host(h) for h in parts)


def _has_scheme(value: str, i: int) -> bool:
    """``value[:i]`` ends with a URL scheme (a letter, then letters, digits, ``+ . -``)."""
    j = i
    while j > 0 and i - j < 32 and value[j - 1] in _SCHEME_CHARS:
        j -= 1
    return any(c.isalpha() for c in value[j:i])


def url_hosts(value: str) -> list[str]:
    """The host part of every ``scheme://`` authority in the value."""
    return [
        m.group("auth").rpartition("@")[2]
        for m in _AUTHORITY.finditer(value)
        if _has_scheme(value, m.start())
    ]


def _url_credentials(value: str) -> Match | None:
    if "://" not in value:
        return None
    for m in _AUTHORITY_WITH_AT.finditer(value):
        auth = m.group("auth")
        at = auth.rfind("@")  # a password may hold "@"; the host follows the last one
        colon = auth.find(":", 0, at)
        if colon < 0 or colon == at - 1:
            continue  # no password (a token alone is caught by its own shape, if it has one)
        kind = _secret_kind(unquote(auth[colon + 1 : at]), strong=True)
        if kind is None or not _has_scheme(value, m.start()) or _hosts_are_documentation(auth[at + 1 :]):
            continue
        return Match("url-credentials", weak_default=kind == _WEAK)
    return None


# ----------------------------------------------------------------- connection strings

# a password key of an ADO.NET / ODBC string (``;`` separated) or of a URL query (``?``/``&``)
_CONN_KEY = re.compile(
    r"(?:^|(?<=[;?&]))[ \t]{0,8}(?:password|passwd|pwd)[ \t]{0,8}=[ \t]{0,8}(?=[^;&#\s])", re.I
)
_CONN_VALUE_ADO = re.compile(
    r"(?P<t>\{\{[^{}]{0,512}\}\})|\"(?P<q>[^\"]{0,256})\"|'(?P<s>[^']{0,256})'|\{(?P<b>[^}]{0,256})\}|[^;]{0,256}"
)
_CONN_VALUE_QUERY = re.compile(r"[^&;#\s]{0,256}")
_CONN_HOST = re.compile(
    r"(?:^|(?<=;))[ \t]{0,8}(?:server|data source|host|hostname|address|addr|network address)"
    r"[ \t]{0,8}=[ \t]{0,8}(?:tcp:)?(?P<host>[^;,\s]{1,253})",
    re.I,
)
_ORACLE_THIN = re.compile(r"jdbc:oracle:thin:[^/\s@:;]{1,128}/(?P<pw>[^\s@]{1,256})@")


def _connection_string(value: str) -> Match | None:
    """ADO.NET / ODBC ``…;Password=…`` and URL query ``?…&password=…`` strings."""
    kinds: list[str] = []
    judged: set[str] = set()  # values already found to be no secret (repeated keys cost nothing)
    for m in _CONN_KEY.finditer(value):
        start = m.start()
        if start == 0 and ";" not in value:
            continue  # "password=x" alone is an assignment, not a connection string
        if start > 0 and value[start - 1] in "?&":
            v = _CONN_VALUE_QUERY.match(value, m.end())
            raw = v.group() if v else ""
            if "%" in raw:
                raw = unquote(raw)
        else:
            v = _CONN_VALUE_ADO.match(value, m.end())
            raw = v.group() if v else ""
            if raw[:1] in ('"', "'", "{") and not raw.startswith("{{"):
                raw = v.group(v.lastgroup) if v and v.lastgroup else raw  # the quoted or braced text
        if raw in judged:
            continue
        kind = _secret_kind(raw, strong=True)
        if kind is not None:
            kinds.append(kind)
            break  # one password is enough to report the string
        judged.add(raw)
    if not kinds or _documentation_connection(value):
        return None
    return Match("connection-string", weak_default=kinds[0] == _WEAK)


def _oracle_thin(value: str) -> Match | None:
    """``jdbc:oracle:thin:user/password@host``."""
    o = _ORACLE_THIN.search(value)
    kind = _secret_kind(o.group("pw"), strong=True) if o is not None else None
    if kind is None or _documentation_connection(value):
        return None
    return Match("connection-string", weak_default=kind == _WEAK)


def _documentation_connection(value: str) -> bool:
    """The hosts a connection string names (``Server=``, ``Host=`` …, or its URL's) are all on
    documentation domains."""
    hosts = [m.group("host") for m in _CONN_HOST.finditer(value)]
    hosts += url_hosts(value)
    if "jdbc:oracle:thin:" in value:
        o = re.search(r"@(?://)?(?P<host>[^\s:/;]{1,253})", value)
        if o:
            hosts.append(o.group("host"))
    return bool(hosts) and all(_hosts_are_documentation(h) for h in hosts)


# --------------------------------------------------------------------------- 2/3. names

_AWS_CONFIG_NAMES = {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "ECS_ENGINE_AUTH_DATA"}

# a name without any of these cannot hold a credential word (checked in tests): names are cached,
# but this keeps the common ones (LOG_LEVEL, PORT …) from being tokenised at all
_NAME_HINT = re.compile(r"pass|pwd|secret|token|key|auth|cred|private|pin")  # on lower-cased text


def _has_hint(text: str) -> bool:
    """A credential word may be in the text (lower-casing first is several times faster than a
    case-insensitive search)."""
    return _NAME_HINT.search(text.lower()) is not None


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
    "requirepass",  # Redis
    "masterauth",
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
# "pin" is also a verb: pinning CPUs, versions, certificates (a public key pin is no secret)
_PIN_NOT_SECRET = {
    "cert",
    "certificate",
    "certs",
    "ssl",
    "tls",
    "hpkp",
    "public",
    "pubkey",
    "sha256",
    "cpu",
    "cpus",
    "core",
    "cores",
    "memory",
    "mem",
    "thread",
    "threads",
    "numa",
    "package",
    "packages",
    "dependency",
    "dependencies",
}

_FLAGS = {"yes", "no", "true", "false", "0", "1", "on", "off", "y", "n", "enabled", "disabled"}
_PLACEHOLDER_WORDS = {
    "none",
    "null",
    "nil",
    "undefined",
    "unset",
    "tbd",
    "todo",
    "fixme",
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
# Well-known defaults: the values of vendor documentation, default images and the most common
# password lists. Matched case-insensitively on the whole value.
WEAK_DEFAULTS = frozenset(
    {
        "changeme",
        "change_me",
        "change-me",
        "changeit",
        "notset",
        "not_set",
        "not-set",
        "password",
        "passw0rd",
        "p@ssw0rd",
        "p@ssword",
        "pa55word",
        "pa$$word",
        "password1",
        "password12",
        "password123",
        "password!",
        "pass",
        "pass123",
        "pass1234",
        "passwd",
        "secret",
        "secret1",
        "secret123",
        "s3cr3t",
        "supersecret",
        "topsecret",
        "mysecret",
        "mysecretpassword",
        "my-secret-pw",
        "mypassword",
        "keyboard cat",
        "default",
        "admin",
        "admin1",
        "admin123",
        "admin1234",
        "administrator",
        "root",
        "toor",
        "test",
        "test123",
        "test1234",
        "testing",
        "guest",
        "demo",
        "user",
        "qwerty",
        "qwerty123",
        "letmein",
        "welcome",
        "welcome1",
        "master",
        "example",
        "sample",
        "dummy",
        "foobar",
        "abc123",
        "abcd1234",
        "iloveyou",
        "trustno1",
        "123",
        "1234",
        "12345",
        "123456",
        "1234567",
        "12345678",
        "123456789",
        "1234567890",
        "0000",
        "00000",
        "000000",
        "111111",
        "654321",
        "postgres",
        "mysql",
        "oracle",
        "redis",
        "rabbitmq",
        "minioadmin",
        "elastic",
        "kibana",
    }
)

# --- placeholders: the whole value is template syntax. Bounded, possessive, anchored: linear.
_TEMPLATE = re.compile(
    r"""(?:\$\{[^{}]{0,256}\}        # ${VAR} ${VAR:-x} ${var.x}
         |\{\{[^{}]{0,512}\}\}       # {{ var }} {{resolve:secretsmanager:…}}
         |\$\([^()]{0,512}\)         # $(command)
         |`[^`]{0,512}`              # `command`
         |[#%]\{[^{}]{0,256}\}       # #{var} %{var}
         |\$[A-Za-z_][A-Za-z0-9_]{0,127}+   # $VAR
       )++""",
    re.VERBOSE,
)
_WHOLE_PLACEHOLDER = re.compile(
    r"""<[^<>]{1,256}>                                  # <your-key>
       |\{[A-Za-z0-9_.-]{1,128}\}                       # {aws_access_key_id}
       |%[A-Za-z0-9_]{1,128}%                           # %VAR%
       |\$++[A-Za-z_][A-Za-z0-9_]{0,127}+\$*+           # $$$VAR$$$
       |__[A-Za-z0-9][A-Za-z0-9_.-]{0,126}__            # __VAR__ (token replacement)
       |@[A-Za-z0-9][A-Za-z0-9_.-]{0,126}@              # @var@ (Maven resource filtering)
       |[*xX.•]{3,}+                                    # ****
    """,
    re.VERBOSE,
)
# ciphertext the application decrypts: Spring Cloud Config {cipher}…, Jasypt ENC(…), Vault transit
_ENCRYPTED = re.compile(
    r"\{cipher\}[A-Za-z0-9+/=]{8}|ENC\([A-Za-z0-9+/=]{8,}+\)$|vault:v\d{1,4}:[A-Za-z0-9+/=]{8}"
)
# "Bearer ${TOKEN}", "user:${PASSWORD}": the secret part is a template
_TEMPLATE_PREFIX = re.compile(r"(?:bearer|basic|token|digest)[ \t]{1,8}|[^:\s]{1,64}:", re.I)

# --- password hashes: not the password. Bounded, anchored: linear.
_HASH = re.compile(
    r"""(?:bcrypt(?:_sha256)?\$)?\$2[abxy]?\$\d{2}\$[./A-Za-z0-9]{53}
       |(?:argon2)?\$argon2(?:id|i|d)\$(?:v=\d{1,3}\$)?m=\d{1,10},t=\d{1,10},p=\d{1,3}
           \$[A-Za-z0-9+/]{1,128}\$[A-Za-z0-9+/]{1,512}
       |\$pbkdf2(?:-sha(?:1|256|512))?\$\d{1,10}\$[./A-Za-z0-9+=]{1,128}\$[./A-Za-z0-9+=]{1,512}
       |pbkdf2_sha(?:1|256|512)\$\d{1,10}\$[^$\s]{1,128}\$[A-Za-z0-9+/]{1,512}={0,2}
       |\$scrypt\$ln=\d{1,2},r=\d{1,3},p=\d{1,3}\$[./A-Za-z0-9+=]{1,128}\$[./A-Za-z0-9+=]{1,512}
       |scrypt\$\d{1,10}\$[^$\s]{1,128}\$\d{1,3}\$\d{1,3}\$[A-Za-z0-9+/]{1,512}={0,2}
       |\$7\$[./A-Za-z0-9]{11,64}\$[./A-Za-z0-9]{43}
       |\$y\$[./A-Za-z0-9]{1,64}\$[./A-Za-z0-9]{1,128}\$[./A-Za-z0-9]{43}
       |\$[56]\$(?:rounds=\d{1,9}\$)?[./A-Za-z0-9]{1,16}\$[./A-Za-z0-9]{43,86}
       |\$(?:1|apr1|md5)\$[./A-Za-z0-9]{1,8}\$[./A-Za-z0-9]{22}
       |\{(?:SSHA|SHA|SSHA256|SSHA512|SHA256|SHA512|CRYPT|BCRYPT|ARGON2)\}[A-Za-z0-9+/=.$,]{8,512}
    """,
    re.VERBOSE,
)
_HASH_USER = re.compile(r"[^:\s,$]{1,64}:")  # htpasswd "user:hash"

_REFERENCE = re.compile(
    r"""arn:aws[a-z-]{0,16}:
       |(?:ssm|secretsmanager|secrets-manager|aws-sm|vault|kms|env|file|ref|op|gcp-sm|azure-kv):
       |(?:/|\./|\.\./|~/)\S*+$
       |[A-Za-z][A-Za-z0-9+.-]{0,31}://
    """,
    re.VERBOSE,
)
_SHORT_NUMBER = re.compile(r"\d{1,6}")

# --- a phrase that echoes the name: words only (at most 12 of 32 characters each)
_WORDS_ONLY = re.compile(r"[A-Za-z0-9]{1,32}(?:[ _.\-][A-Za-z0-9]{1,32}){0,11}")
_WORD_SEP = re.compile(r"[ _.\-]")
_PHRASE_STARTS = {"insert", "enter", "put", "paste", "replace", "your", "fill", "provide", "specify", "add"}
_FILLER = {
    "my",
    "your",
    "our",
    "the",
    "a",
    "an",
    "here",
    "goes",
    "value",
    "new",
    "real",
    "actual",
    "this",
    "own",
    "with",
    "of",
    "for",
    "to",
    "in",
    "me",
    "it",
    "xxx",
    "xxxx",
    "example",
    "sample",
    "dummy",
    "fake",
    "placeholder",
    "default",
    "some",
    "change",
    "set",
    "replace",
}
_ECHO_WORDS = _WORDS | {"key", "pw"}

_WEAK = "weak"
_LITERAL = "literal"


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


def is_template(value: str) -> bool:
    """The whole value is template or placeholder syntax, or its secret part is (``Bearer ${T}``,
    ``user:${PASSWORD}``). ``Pa55word${X}`` is not: part of it is a literal."""
    v = value.strip()
    if not v:
        return False
    if _TEMPLATE.fullmatch(v) or _WHOLE_PLACEHOLDER.fullmatch(v):
        return True
    if v.startswith(("$(", "`")):
        return True  # a command substitution cut short (a command line split on spaces)
    if _ENCRYPTED.match(v):
        return True  # encrypted, decrypted by the application: no plaintext
    p = _TEMPLATE_PREFIX.match(v)
    return p is not None and p.end() < len(v) and _TEMPLATE.fullmatch(v, p.end()) is not None


def is_password_hash(value: str) -> bool:
    """A password hash (bcrypt, argon2, PBKDF2, scrypt, yescrypt, sha-crypt, md5-crypt, LDAP
    ``{SSHA}``), alone, as htpasswd ``user:hash`` lines separated by commas, or with the ``$$`` of
    a compose file."""
    v = value.strip()
    if "$" not in v and "{" not in v:
        return False
    if "$$" in v:
        v = v.replace("$$", "$")
    if _HASH.fullmatch(v) is not None:
        return True  # argon2 and scrypt hashes hold commas themselves
    for part in v.split(","):
        part = part.strip()
        user = _HASH_USER.match(part)
        if _HASH.fullmatch(part, user.end() if user else 0) is None and _HASH.fullmatch(part) is None:
            return False
    return True


def _echoes(value: str, tokens: Sequence[str]) -> bool:
    """A phrase made of the name's words and filler (``MY_ACCESS_TOKEN`` for ``ACCESS_TOKEN``,
    ``YOUR_API_KEY_HERE``), or an instruction (``INSERT …``, ``ENTER_YOUR_PASSWORD``)."""
    if len(value) > 400 or _WORDS_ONLY.fullmatch(value) is None:
        return False
    words = [w.lower() for w in _WORD_SEP.split(value)]
    if len(words) < 2:
        return words[0] in tokens and words[0] in _ECHO_WORDS  # TOKEN=TOKEN, API_KEY=KEY
    if words[0] in _PHRASE_STARTS:
        return True
    if not value.isupper() and words != list(tokens):
        return False  # "my-pass" is a (weak) password someone chose; "MY_PASS" names one
    if not any(w in _ECHO_WORDS for w in words):
        return False
    return all(w in _FILLER or w in _ECHO_WORDS or w in tokens for w in words)


def _secret_kind(value: str, strong: bool, tokens: Sequence[str] = ()) -> str | None:
    """None when the value is no secret (empty, a flag, a reference, a placeholder, a hash);
    ``_WEAK`` for a well-known default; ``_LITERAL`` for any other secret."""
    v = value.strip()
    if not v:
        return None
    low = v.lower()
    if low in _FLAGS:
        return None
    if not strong and _SHORT_NUMBER.fullmatch(v):
        return None
    if low in WEAK_DEFAULTS:
        return _WEAK
    if low in _PLACEHOLDER_WORDS or _REFERENCE.match(v) or is_template(v) or is_password_hash(v):
        return None
    if _echoes(v, tokens):
        return None
    return _LITERAL


@dataclass(frozen=True, slots=True)
class _NameInfo:
    aws_config: bool  # one of the AWS configuration names: any literal value fires
    word: str | None  # the credential word in the name, None when it has none or points at a secret
    cloud: bool
    tokens: tuple[str, ...] = ()


_NO_NAME = _NameInfo(False, None, False)
_NAME_CACHE: dict[str, _NameInfo] = {}
_NAME_CACHE_MAX = 200_000


def _name_info(name: str) -> _NameInfo:
    """What the name alone says. Names repeat across an estate (LOG_LEVEL, DB_HOST …): cached."""
    info = _NAME_CACHE.get(name)
    if info is not None:
        return info
    if name.upper() in _AWS_CONFIG_NAMES:
        info = _NameInfo(True, None, name.upper() != "ECS_ENGINE_AUTH_DATA", tuple(name_tokens(name)))
    elif not _has_hint(name):
        info = _NO_NAME
    else:
        tokens = name_tokens(name)
        word = _credential_word(tokens) if tokens else None
        if word is None or _is_pointer_name(tokens) or (word == "pin" and _PIN_NOT_SECRET & set(tokens)):
            info = _NO_NAME
        else:
            cloud = "aws" in tokens and any(
                t in ("secret", "secretkey", "session", "accesskey") or t.endswith("secret") for t in tokens
            )
            info = _NameInfo(False, word, cloud, tuple(tokens))
    if len(_NAME_CACHE) < _NAME_CACHE_MAX and len(name) <= 256:
        _NAME_CACHE[name] = info
    return info


def _classify_info(info: _NameInfo, value: str) -> Match | None:
    if info.aws_config:
        kind = _secret_kind(value, strong=True, tokens=info.tokens)
        if kind is None:
            return None
        # "test" or "changeme" is no AWS key (those have shapes of their own): not a cloud credential
        return Match("aws-config-name", cloud=info.cloud and kind != _WEAK, weak_default=kind == _WEAK)
    if info.word is None:
        return None
    kind = _secret_kind(value, strong=info.word in _STRONG, tokens=info.tokens)
    if kind is None:
        return None
    return Match("credential-name", info.cloud, weak_default=kind == _WEAK)


def classify(name: str, value: str) -> Match | None:
    """The rule that makes ``name=value`` a credential, or None."""
    if not value:
        return None
    shape = match_shape(value)
    if shape is not None:
        return shape
    info = _NAME_CACHE.get(name) or _name_info(name)
    if info.word is None and not info.aws_config:
        # an assignment inside the value needs a credential word in it (the name prefilter)
        return _embedded(value) if "=" in value and _has_hint(value) else None
    return _classify_info(info, value)


def _embedded(value: str) -> Match | None:
    """A credential assignment inside a value: ``JAVA_OPTS=-Dspring.datasource.password=…``."""
    for _, _, found in _assignments(value, _ENV_ASSIGNMENT):
        if _documentation_connection(value):
            return None  # db.example.com;Password=…: an example
        return Match("embedded-credential", found.cloud, found.weak_default)
    return None


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
            if position not in seen and _AWS_SECRET_SHAPE.fullmatch(value):
                found.append((position, Match("aws-secret-access-key", cloud=True)))
        found.sort(key=lambda x: x[0])
    return [(env.entry(p), m) for p, m in found]


# --------------------------------------------------------------------------- free text

# NAME=value, --name=value, name: value. The name starts after a separator (so runs of name
# characters are entered once) and is at most 128 characters.
_ASSIGNMENT = re.compile(
    r"(?:^|(?<=[\s;&|('\"]))-{0,2}(?P<name>[A-Za-z_][A-Za-z0-9_.-]{0,127})[ \t]{0,8}[=:][ \t]{0,8}"
    r"(?=[^\s;&|)])"  # an empty value is nothing to report: skipped without leaving the regex engine
)
# only NAME=value and -Dname=value: inside an environment value, "name: value" is too often prose
_ENV_ASSIGNMENT = re.compile(
    r"(?:^|(?<=[\s;&|('\"]))-{0,2}(?P<name>[A-Za-z_][A-Za-z0-9_.-]{0,127})[ \t]{0,8}=[ \t]{0,8}(?=[^\s;&|)])"
)
_BARE_VALUE = re.compile(r"[^\s;&|'\")`]*+")
_PARENS = re.compile(r"[()]")
_AUTH_SCHEME = re.compile(r"(?:bearer|basic|token|digest)[ \t]{1,8}", re.I)
_ECHO_LITERAL = re.compile(r"[ \t]*(?:echo|printf)(?:[ \t]{1,8}-[neE]{1,3})?[ \t]{1,8}")


def _read_value(text: str, pos: int) -> tuple[str | None, int]:
    """The shell word at ``pos``: (its text, where it ends). The text is None for a command
    substitution (``$(cat /run/secrets/token)``, backticks): a value read at run time, not a
    literal — unless it only echoes one (``$(echo hunter2)``), which is that literal."""
    n = len(text)
    if pos >= n:
        return "", pos
    c = text[pos]
    if c in "\"'":
        end = text.find(c, pos + 1)
        if end < 0:
            return text[pos + 1 :], n
        inner = text[pos + 1 : end]
        if c == '"' and inner.startswith(("$(", "`")):
            return _substitution(inner), end + 1
        return inner, end + 1
    if text.startswith("$(", pos):
        depth, end = 0, n
        for p in _PARENS.finditer(text, pos + 1):
            depth += 1 if p.group() == "(" else -1
            if depth == 0:
                end = p.end()
                break
        return _substitution(text[pos:end]), end
    if c == "`":
        end = text.find("`", pos + 1)
        end = n if end < 0 else end + 1
        return _substitution(text[pos:end]), end
    m = _BARE_VALUE.match(text, pos)
    assert m is not None
    return m.group(), m.end()


def _substitution(sub: str) -> str | None:
    inner = sub[2:-1] if sub.startswith("$(") else sub.strip("`")
    e = _ECHO_LITERAL.match(inner)
    if e is None:
        return None
    pos = e.end()
    if inner.startswith(("$(", "`", '"$(', '"`'), pos):
        return None  # echoes another substitution: still read at run time
    if inner[pos : pos + 1] in ("'", '"'):
        end = inner.find(inner[pos], pos + 1)
        return inner[pos + 1 : end if end >= 0 else len(inner)]
    m = _BARE_VALUE.match(inner, pos)
    assert m is not None
    return m.group()


def text_matches(text: str) -> Iterable[tuple[str | None, str, Match]]:
    """Credentials inside free text (a command argument, a label): (name, matched text, rule).

    Finds value shapes anywhere, and ``NAME=value`` / ``--name=value`` / ``name: value``
    assignments whose name is a credential name. Values are read as a shell reads words: quotes,
    ``$(…)`` and backticks (a command substitution is a reference, not a literal). The matched
    text is returned for fingerprinting only.
    """
    shape = match_shape(text)
    if shape is not None:
        yield None, text, shape
        return
    yield from _assignments(text, _ASSIGNMENT)


def _assignments(text: str, pattern: re.Pattern[str]) -> Iterator[tuple[str, str, Match]]:
    pos, n = 0, len(text)
    judged: set[tuple[str, str]] = set()  # (name, value) found to be no credential
    while pos < n:
        m = pattern.search(text, pos)
        if m is None:
            return
        name = m.group("name")
        info = _NAME_CACHE.get(name) or _name_info(name)
        pos = start = m.end()
        if info.word is None and not info.aws_config:
            continue
        c = text[start]
        if c in "bBtTdD":
            a = _AUTH_SCHEME.match(text, start)
            if a is not None:  # "Authorization: Bearer abc": the credential is the word after the scheme
                start = a.end()
                c = text[start] if start < n else ""
        if c not in "\"'$`":  # a bare word, the common case
            b = _BARE_VALUE.match(text, start)
            assert b is not None
            value, end = b.group(), b.end()
        else:
            value, end = _read_value(text, start)
        if end > pos:
            pos = end
        if value and (name, value) not in judged:
            found = _classify_info(info, value)
            if found is not None:
                yield name, value, found
            else:
                judged.add((name, value))


_PARAMETER_NAME = re.compile(r"[A-Za-z0-9_.\-/]+")


def literal_secret_reference(value_from: str) -> Match | None:
    """A ``secrets[].valueFrom`` that holds a secret rather than naming one.

    ARNs and SSM parameter names are references. A value that matches a credential shape, or that
    has characters a parameter name cannot have, is a literal (``hunter2`` alone is
    indistinguishable from a parameter name and is not reported).
    """
    v = value_from.strip()
    if not v or v.startswith("arn:") or is_template(v):
        return None
    shape = match_shape(v)
    if shape is not None:
        return shape
    if not _PARAMETER_NAME.fullmatch(v):
        return Match("literal-secret-reference")
    return None
