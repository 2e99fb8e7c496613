"""Spec §4: each environment entry on its own, name and value, with the traps peers fall into."""

from __future__ import annotations

import pytest

from ecs_exposure import credentials
from ecs_exposure.credentials import classify, environment_matches, literal_secret_reference, text_matches
from ecs_exposure.model import Environment

AKIA = "AKIAIOSFODNN7EXAMPLE"
AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"


def env(*pairs: tuple[str, str]) -> Environment:
    return Environment(tuple(n for n, _ in pairs), tuple(v for _, v in pairs), tuple(range(len(pairs))))


POSITIVE = [
    # name rules, any case and separator
    ("DB_PASSWORD", "hunter2-Orders", "credential-name"),
    ("db_password", "hunter2-Orders", "credential-name"),
    ("dbPassword", "hunter2-Orders", "credential-name"),
    ("db-password", "hunter2-Orders", "credential-name"),
    ("MYSQLPASSWORD", "s3cr3t!", "credential-name"),
    ("POSTGRES_PASSWORD", "postgres", "credential-name"),
    ("DB_PASS", "1234", "credential-name"),  # short numbers count for password words
    ("API_KEY", "9f8e7d6c5b4a", "credential-name"),
    ("STRIPE_SECRET_KEY", "abcd1234efgh", "credential-name"),
    ("SECRET_KEY_BASE", "72971829c1b11f427d6539a5340eff94f61e5ab1", "credential-name"),
    ("GITHUB_TOKEN", "not-a-known-shape-but-a-token", "credential-name"),
    ("Client.Secret", "xyzzy-plugh", "credential-name"),
    ("AUTH", "Basic dXNlcjpwYXNz", "credential-name"),
    ("JASYPT_ENCRYPTOR_PASSWORD", "changeme", "credential-name"),
    # AWS configuration names fire on any literal
    ("AWS_ACCESS_KEY_ID", "not-a-key-shape", "aws-config-name"),
    ("AWS_SECRET_ACCESS_KEY", AWS_SECRET, "aws-config-name"),
    ("ECS_ENGINE_AUTH_DATA", '{"https://index.docker.io/v1/":{"auth":"x"}}', "aws-config-name"),
    # value shapes, whatever the name
    ("SOMETHING", AKIA, "aws-access-key-id"),
    ("CONFIG", f"key={AKIA};region=eu-west-1", "aws-access-key-id"),
    ("DATABASE_URL", "postgres://app:S3cure-Pass@db.internal:5432/app", "url-credentials"),
    ("MONGODB_URI", "mongodb+srv://user:pw123@cluster0.example.net/db", "url-credentials"),
    ("TLS_KEY", "-----BEGIN RSA PRIVATE KEY-----\nMIIEow...", "private-key"),
    ("CI_HELPER", "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8", "github-token"),
    ("HOOK", "xoxb-1234567890-abcdefghij", "slack-token"),
    ("PAYMENTS", "sk_live_" + "4eC39HqLyjWDarjtT1zdp7dc", "stripe-key"),
    ("MAPS", "AIza" + "SyA1234567890abcdefghijklmnopqrstuv", "google-api-key"),
    ("GL", "glpat-" + "xY9zW8vU7tS6rQ5pO4nM", "gitlab-token"),
    (
        "ALERTS",
        "https://hooks.slack.com/services/T0ABCDEF1/B0ABCDEF2/" + "a1B2c3D4e5F6g7H8i9J0k1L2",
        "slack-webhook",
    ),
    ("NPMRC", "npm_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8", "npm-token"),
    ("MAIL", "SG." + "a" * 22 + "." + "b" * 43, "sendgrid-key"),
    (
        "SESSION",
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
        "jwt",
    ),
]

NEGATIVE = [
    ("MYSQL_ALLOW_EMPTY_PASSWORD", "yes"),
    ("MYSQL_RANDOM_ROOT_PASSWORD", "true"),
    ("SECRET_ARN", "arn:aws:secretsmanager:eu-west-1:111122223333:secret:db-AbCdEf"),
    ("DB_PASSWORD", "arn:aws:secretsmanager:eu-west-1:111122223333:secret:db-AbCdEf"),
    ("TOKEN_URL", "https://auth.example.com/oauth2/token"),
    ("DB_PASSWORD", "${DB_PASSWORD}"),
    ("DB_PASSWORD", "{{resolve:secretsmanager:db:SecretString:password}}"),
    ("DB_PASSWORD", "<DB_PASSWORD>"),
    ("DD_API_KEY", "<YOUR_DATADOG_API_KEY>"),
    ("ACCESS_TOKEN", "MY_ACCESS_TOKEN"),
    ("JWT_ACCESS_SECRET", "JWT_ACCESS_SECRET"),
    ("aws_access_key_id", "{aws_access_key_id}"),
    ("APPLICATION_SECRET", "notset"),
    ("DB_PASSWORD", ""),
    ("AWS_SESSION_TOKEN", ""),
    ("DB_PASSWORD", "ssm:/prod/db/password"),
    ("DB_PASSWORD_FILE", "/run/secrets/db_password"),
    ("GOOGLE_APPLICATION_CREDENTIALS", "/tmp/service-account.json"),
    ("PASSWORD_MIN_LENGTH", "12"),
    ("TOKEN_TTL", "3600"),
    ("MODEL_MAX_TOKENS", "64000"),
    ("LIMIT_TOKEN_REQUESTS_PER_MINUTE", "5"),
    ("AUTH_ENABLED", "on"),
    ("AUTH_TYPE", "oauth2"),
    ("OAUTH_CLIENT_ID", "my-client"),
    ("NRIA_PASSTHROUGH_ENVIRONMENT", "ECS_CONTAINER_METADATA_URI"),
    ("AUTHOR", "299370234228506627"),
    ("S3_KEY_PREFIX", "uploads/"),
    ("DATABASE_URL", "postgres://app@db.internal:5432/app"),
    ("DATABASE_URL", "postgres://app:${DB_PASSWORD}@db.internal/app"),
    ("DATABASE_URL", "postgres://app:****@db.internal/app"),
    ("LOG_LEVEL", "debug"),
    ("SECRET_NAME", "prod/db"),
    ("KMS_KEY_ID", "1234abcd-12ab-34cd-56ef-1234567890ab"),
]


@pytest.mark.parametrize(("name", "value", "rule"), POSITIVE, ids=[f"{n}-{r}" for n, _, r in POSITIVE])
def test_credential_fires(name: str, value: str, rule: str) -> None:
    match = classify(name, value)
    assert match is not None and match.rule == rule


@pytest.mark.parametrize(("name", "value"), NEGATIVE, ids=[f"{n}={v[:20]}" for n, v in NEGATIVE])
def test_not_a_credential(name: str, value: str) -> None:
    assert classify(name, value) is None


@pytest.mark.parametrize(
    "name", ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SECRET_KEY", "AWS_SESSION_TOKEN"]
)
def test_aws_credentials_are_cloud(name: str) -> None:
    match = classify(name, AWS_SECRET)
    assert match is not None and match.cloud


def test_non_aws_credential_is_not_cloud() -> None:
    match = classify("DB_PASSWORD", "hunter2")
    assert match is not None and not match.cloud


@pytest.mark.parametrize("position", [0, 1, 5, 9])
def test_password_found_in_any_position(position: int) -> None:
    names = [f"VAR_{i}" for i in range(10)]
    values = [f"value-{i}" for i in range(10)]
    names[position], values[position] = "DB_PASSWORD", "hunter2!"
    found = environment_matches(env(*zip(names, values, strict=True)))
    assert [(e.index, m.rule) for e, m in found] == [(position, "credential-name")]


def test_secret_key_next_to_access_key() -> None:
    found = {
        e.name: m.rule
        for e, m in environment_matches(env(("KEY", AKIA), ("SK", AWS_SECRET), ("X", "y" * 40)))
    }
    assert found == {"KEY": "aws-access-key-id", "SK": "aws-secret-access-key", "X": "aws-secret-access-key"}
    # without an access key id beside it, a 40-character value alone is not reported
    assert environment_matches(env(("SK", AWS_SECRET))) == []


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("--password=hunter2!", "credential-name"),
        ("export API_TOKEN=abc123xyz && ./run", "credential-name"),
        (f"aws configure set aws_access_key_id {AKIA}", "aws-access-key-id"),
        ("--db-url=postgres://u:pw@h/db", "url-credentials"),
    ],
)
def test_text_matches(text: str, rule: str) -> None:
    assert [m.rule for _, _, m in text_matches(text)] == [rule]


@pytest.mark.parametrize(
    "text", ["--port=8080", "node server.js", "--password-file=/run/secrets/pw", "echo $PASSWORD"]
)
def test_text_without_credentials(text: str) -> None:
    assert list(text_matches(text)) == []


@pytest.mark.parametrize(
    ("value_from", "literal"),
    [
        ("arn:aws:secretsmanager:eu-west-1:1:secret:db", False),
        ("arn:aws:ssm:eu-west-1:1:parameter/db", False),
        ("/prod/db/password", False),
        ("db-password", False),
        ("$$$SECRET_NAME$$$", False),
        ("p@ss w0rd!", True),
        (AKIA, True),
    ],
)
def test_literal_secret_reference(value_from: str, literal: bool) -> None:
    assert (literal_secret_reference(value_from) is not None) is literal


def test_trigger_prefilter_covers_every_shape() -> None:
    """The literal trigger must let through every value a shape rule matches."""
    for _, value, rule in POSITIVE:
        if rule not in ("credential-name", "aws-config-name"):
            assert credentials._TRIGGER.search(value), rule
    tested = {rule for _, _, rule in POSITIVE}
    untested = [rule for rule, _ in credentials._SHAPES if rule not in tested]
    assert not untested, f"shape rules without a positive case: {untested}"
