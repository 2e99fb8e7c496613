"""Spec §4: each environment entry on its own, name and value, with the traps peers fall into."""

from __future__ import annotations

import time

import pytest

from adversarial_credentials import ADVERSARIAL, ADVERSARIAL_NAMES, MB
from ecs_exposure import credentials
from ecs_exposure.credentials import (
    RULE_DESCRIPTIONS,
    SHAPE_RULES,
    classify,
    environment_matches,
    is_documentation_host,
    literal_secret_reference,
    text_matches,
)
from ecs_exposure.model import Environment

AKIA = "AKIAIOSFODNN7EXAMPLE"
AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
BCRYPT = "$2b$12$" + "R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW"


def env(*pairs: tuple[str, str]) -> Environment:
    return Environment(tuple(n for n, _ in pairs), tuple(v for _, v in pairs), tuple(range(len(pairs))))


POSITIVE = [
    # name rules, any case and separator
    ("DB_PASSWORD", "hunter2-Orders", "credential-name"),
    ("db_password", "hunter2-Orders", "credential-name"),
    ("dbPassword", "hunter2-Orders", "credential-name"),
    ("db-password", "hunter2-Orders", "credential-name"),
    ("MYSQLPASSWORD", "s3cr3t!", "credential-name"),
    ("POSTGRES_PASSWORD", "peer-recognition-password", "credential-name"),
    ("DB_PASS", "4711", "credential-name"),  # short numbers count for password words
    ("API_KEY", "9f8e7d6c5b4a", "credential-name"),
    ("STRIPE_SECRET_KEY", "abcd1234efgh", "credential-name"),
    ("SECRET_KEY_BASE", "72971829c1b11f427d6539a5340eff94f61e5ab1", "credential-name"),
    ("GITHUB_TOKEN", "not-a-known-shape-but-a-token", "credential-name"),
    ("Client.Secret", "xyzzy-plugh", "credential-name"),
    ("AUTH", "Basic dXNlcjpwYXNz", "credential-name"),
    # a PIN (the word was listed but unreachable behind the name prefilter)
    ("PIN", "4821", "credential-name"),
    ("SIM_PIN", "4821", "credential-name"),
    ("ADMIN_PIN_CODE", "739201", "credential-name"),
    ("userPin", "8264", "credential-name"),
    # a literal with a template in it is not a template
    ("DB_PASSWORD", "Pa55word${X}", "credential-name"),
    ("DB_PASSWORD", "${PREFIX}Pa55word", "credential-name"),
    ("API_TOKEN", "tok-{{env}}-9f8e7d", "credential-name"),
    # all capitals, but not the name echoed: a literal
    ("DB_PASSWORD", "PROD_DB_2024", "credential-name"),
    ("API_TOKEN", "ZQX_KJH_8812", "credential-name"),
    ("SECRET_KEY", "SECRET_KEY_PROD_7", "credential-name"),
    ("DB_PASSWORD", "my-pass", "credential-name"),  # lower case: chosen, not a placeholder
    ("DATABASE_URL", "postgres://app:my-pass@db.internal/app", "url-credentials"),
    # a credential assignment inside another value
    (
        "JAVA_OPTS",
        "-Xmx1g -Dspring.datasource.password=Hunter2x -Dfile.encoding=UTF-8",
        "embedded-credential",
    ),
    ("CATALINA_OPTS", "-Djavax.net.ssl.keyStorePassword=Hunter2x", "embedded-credential"),
    ("EXTRA_ENV", "API_TOKEN=tok-9f8e7d6c", "embedded-credential"),
    ("CONFIG", "password=hunter2x", "embedded-credential"),  # not a connection string: no other key
    ("REDIS_REQUIREPASS", "Hunter2x", "credential-name"),
    # AWS configuration names fire on any literal
    ("AWS_ACCESS_KEY_ID", "not-a-key-shape", "aws-config-name"),
    ("AWS_SECRET_ACCESS_KEY", AWS_SECRET, "aws-config-name"),
    ("ECS_ENGINE_AUTH_DATA", '{"https://index.docker.io/v1/":{"auth":"x"}}', "aws-config-name"),
    # value shapes, whatever the name
    ("SOMETHING", AKIA, "aws-access-key-id"),
    ("CONFIG", f"key={AKIA};region=eu-west-1", "aws-access-key-id"),
    ("DATABASE_URL", "postgres://app:S3cure-Pass@db.internal:5432/app", "url-credentials"),
    ("MONGODB_URI", "mongodb+srv://user:pw123@cluster0.f4v7rrn.mongodb.net/db", "url-credentials"),
    ("REDIS_URL", "redis://:S3cure-Pass@cache.internal:6379/0", "url-credentials"),  # empty user
    ("CACHE", "rediss://:pw@cache.internal", "url-credentials"),
    ("AMQP_URL", "amqp://app:p%40ss%3Aword@mq.internal/vhost", "url-credentials"),
    ("DATABASE_URL", "postgres://app:p@ss@db.internal/app", "url-credentials"),  # "@" in the password
    ("SIDECAR_DB", "postgres://app:S3cure-Pass@localhost:5432/app", "url-credentials"),  # loopback is real
    ("DATABASE_URL", "postgres://app:S3cure@example.com.attacker.io/app", "url-credentials"),
    ("DATABASE_URL", "postgres://app:S3cure@notexample.com/app", "url-credentials"),
    ("DATABASE_URL", "mongodb://u:S3cure@db.example.com,db2.internal/app", "url-credentials"),
    # connection strings: ADO.NET, ODBC, JDBC
    (
        "ConnectionStrings__Default",
        "Server=db.internal;Database=app;User ID=app;Password=Str0ng-Pass;",
        "connection-string",
    ),
    ("DB", "Server=tcp:sql.internal,1433;Initial Catalog=app;Pwd=Str0ng-Pass;", "connection-string"),
    ("DB", 'Data Source=sql;User Id=sa;Password="a;b c";', "connection-string"),
    ("DB", "Data Source=sql; User Id=sa; PASSWORD = Str0ng ;", "connection-string"),
    ("DB", "Password=Str0ng-Pass;Server=db.internal", "connection-string"),
    ("ODBC", "DRIVER={ODBC Driver 18};SERVER=sql;UID=app;PWD={p;ss};", "connection-string"),
    ("JDBC_URL", "jdbc:mysql://db.internal:3306/app?user=app&password=Str0ng-Pass", "connection-string"),
    ("JDBC_URL", "jdbc:postgresql://db.internal/app?user=app&pwd=Str0ng-Pass&ssl=true", "connection-string"),
    ("JDBC_URL", "jdbc:postgresql://db.internal/app?password=Str0ng-Pass", "connection-string"),
    (
        "JDBC_URL",
        "jdbc:sqlserver://sql.internal:1433;databaseName=app;user=app;password=Str0ng-Pass",
        "connection-string",
    ),
    ("ORACLE_URL", "jdbc:oracle:thin:scott/Str0ng-Pass@//db.internal:1521/ORCL", "connection-string"),
    ("TLS_KEY", "-----BEGIN RSA PRIVATE KEY-----\nMIIEow...", "private-key"),
    ("CI_HELPER", "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8", "github-token"),
    ("CI_HELPER", "github_pat_" + "11ABCDEFG0123456789_abcdefghij", "github-token"),
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
    ("HEADER", "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N", "jwt"),
]

# well-known defaults: reported, qualified weak-default
WEAK = [
    ("APPLICATION_SECRET", "notset", "credential-name"),
    ("DB_PASSWORD", "changeme", "credential-name"),
    ("JASYPT_ENCRYPTOR_PASSWORD", "changeme", "credential-name"),
    ("DB_PASSWORD", "CHANGE_ME", "credential-name"),
    ("DB_PASSWORD", "password", "credential-name"),
    ("DB_PASSWORD", "Password", "credential-name"),
    ("ADMIN_PASSWORD", "admin", "credential-name"),
    ("JWT_SECRET", "secret", "credential-name"),
    ("SESSION_SECRET", "default", "credential-name"),
    ("MYSQL_ROOT_PASSWORD", "root", "credential-name"),
    ("MYSQL_ROOT_PASSWORD", "my-secret-pw", "credential-name"),
    ("POSTGRES_PASSWORD", "postgres", "credential-name"),
    ("POSTGRES_PASSWORD", "mysecretpassword", "credential-name"),
    ("DB_MYSQL_PASSWORD", "test1234", "credential-name"),
    ("API_TOKEN", "test", "credential-name"),
    ("DB_PASS", "123456", "credential-name"),
    ("PIN", "1234", "credential-name"),
    ("RABBITMQ_DEFAULT_PASS", "guest", "credential-name"),
    ("MINIO_ROOT_PASSWORD", "minioadmin", "credential-name"),
    ("KEYSTORE_PASSWORD", "changeit", "credential-name"),
    ("EMPIRE_DATABASE_URL", "postgres://postgres:postgres@postgres/postgres", "url-credentials"),
    ("DB", "Server=sql.internal;User ID=sa;Password=password;", "connection-string"),
    ("JDBC_URL", "jdbc:mysql://db.internal/app?user=root&password=root", "connection-string"),
    ("AWS_SECRET_ACCESS_KEY", "test", "aws-config-name"),  # a localstack dummy: no AWS key, not cloud
]

NEGATIVE = [
    ("MYSQL_ALLOW_EMPTY_PASSWORD", "yes"),
    ("MYSQL_RANDOM_ROOT_PASSWORD", "true"),
    ("SECRET_ARN", "arn:aws:secretsmanager:eu-west-1:111122223333:secret:db-AbCdEf"),
    ("DB_PASSWORD", "arn:aws:secretsmanager:eu-west-1:111122223333:secret:db-AbCdEf"),
    ("TOKEN_URL", "https://auth.example.com/oauth2/token"),
    # templates and placeholders: the whole value, or the secret part of it
    ("DB_PASSWORD", "${DB_PASSWORD}"),
    ("DB_PASSWORD", "${DB_PASSWORD:-}"),
    ("DB_PASSWORD", "${A}${B}"),
    ("DB_PASSWORD", "$DB_PASSWORD"),
    ("DB_PASSWORD", "{{resolve:secretsmanager:db:SecretString:password}}"),
    ("DB_PASSWORD", "{{ .Values.db.password }}"),
    ("DB_PASSWORD", "$(cat /run/secrets/db)"),
    ("DB_PASSWORD", "#{DbPassword}"),
    ("DB_PASSWORD", "%DB_PASSWORD%"),
    ("DB_PASSWORD", "@db.password@"),
    ("DB_PASSWORD", "__DB_PASSWORD__"),
    ("DB_PASSWORD", "<DB_PASSWORD>"),
    ("DD_API_KEY", "<YOUR_DATADOG_API_KEY>"),
    ("API_KEY", "<your-key>"),
    ("AUTHORIZATION", "Bearer ${TOKEN}"),
    ("BASIC_AUTH", "admin:${ADMIN_PASSWORD}"),
    # values that echo the name, and instructions
    ("ACCESS_TOKEN", "MY_ACCESS_TOKEN"),
    ("SPLUNK_ACCESS_TOKEN", "MY_SPLUNK_ACCESS_TOKEN"),
    ("JWT_ACCESS_SECRET", "JWT_ACCESS_SECRET"),
    ("jwt_access_secret", "jwt_access_secret"),
    ("API_KEY", "YOUR_API_KEY_HERE"),
    ("API_KEY", "your-api-key"),
    ("DB_PASSWORD", "REPLACE_ME"),
    ("DB_PASSWORD", "INSERT_PASSWORD"),
    ("DB_PASSWORD", "enter your password"),
    ("GITHUB_TOKEN", "TOKEN"),
    ("aws_access_key_id", "{aws_access_key_id}"),
    ("AWS_ACCESS_KEY_ID", "YOUR_ACCESS_KEY_ID"),
    ("DB_PASSWORD", "********"),
    ("DB_PASSWORD", "none"),
    ("DB_PASSWORD", ""),
    ("AWS_SESSION_TOKEN", ""),
    ("DB_PASSWORD", "ssm:/prod/db/password"),
    ("DB_PASSWORD_FILE", "/run/secrets/db_password"),
    ("GOOGLE_APPLICATION_CREDENTIALS", "/tmp/service-account.json"),
    # password hashes are not passwords
    ("ADMIN_PASSWORD", BCRYPT),
    ("ADMIN_PASSWORD", BCRYPT.replace("$2b$", "$2y$")),
    ("ADMIN_PASSWORD", BCRYPT.replace("$2b$", "$2a$")),
    ("ADMIN_PASSWORD", BCRYPT.replace("$", "$$")),  # a compose file's escaping
    ("ADMIN_PASSWORD", "$argon2id$v=19$m=65536,t=3,p=4$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG"),
    ("PASSWORD_HASH_SECRET", "argon2$argon2id$v=19$m=102400,t=2,p=8$c29tZXNhbHQ$aGFzaGhhc2g"),
    ("ADMIN_PASSWORD", "pbkdf2_sha256$600000$x5RgBmKf3zjQ$W8SwiSZzP6UcrFzZt0rWYVEDtZAIqGRWtWDbQlqUEm8="),
    (
        "ADMIN_PASSWORD",
        "$pbkdf2-sha256$29000$N2YMIWQsBWBMae09x1jrPQ$1t8iyB2A.WF/Z5JZv.lfCIhXXN33N23OSgQYThBYRfk",
    ),
    ("ADMIN_PASSWORD", "$scrypt$ln=16,r=8,p=1$aM15713r3Xsvxbi31lqr1Q$nFNh2CVHVjNldFVKDHDlm4CbdRSCdEBsjjJxD"),
    ("ADMIN_PASSWORD", "scrypt$16384$c29tZXNhbHQ$8$1$aGFzaGhhc2hoYXNo"),
    ("ROOT_PASSWORD", "$6$rounds=5000$saltsalt$" + "a" * 86),
    ("ROOT_PASSWORD", "$5$saltsalt$" + "b" * 43),
    ("ROOT_PASSWORD", "$y$j9T$F5Jx5fExrKuPp53xLKQ..1$" + "X" * 43),
    ("BASIC_AUTH_PASSWORD", "admin:$apr1$ruca84Hq$mbjdMZBAG.KWn7vfN/SNK/"),
    ("LDAP_PASSWORD", "{SSHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g="),
    # URLs and connection strings on documentation domains (RFC 2606 / RFC 6761)
    ("DATABASE_URL", "postgres://user:password@db.example.com/app"),
    ("DATABASE_URL", "postgres://user:S3cure-Pass@example.net:5432/app"),
    ("DATABASE_URL", "postgres://user:S3cure-Pass@EXAMPLE.ORG/app"),
    ("DATABASE_URL", "mysql://user:S3cure-Pass@db.example/app"),
    ("DATABASE_URL", "redis://:S3cure-Pass@cache.test:6379"),
    ("DATABASE_URL", "amqp://user:S3cure-Pass@mq.invalid/"),
    ("DATABASE_URL", "mongodb://u:S3cure@db.example.com?authSource=admin"),
    ("DATABASE_URL", "mongodb://u:S3cure@a.example.com,b.example.net/app"),
    ("DB", "Server=db.example.com;Password=Str0ng-Pass;"),
    ("JDBC_URL", "jdbc:mysql://db.example.com/app?user=u&password=Str0ng-Pass"),
    # URLs and connection strings with no literal password
    ("DATABASE_URL", "postgres://app@db.internal:5432/app"),
    ("DATABASE_URL", "postgres://app:${DB_PASSWORD}@db.internal/app"),
    ("DATABASE_URL", "postgres://app:****@db.internal/app"),
    ("DATABASE_URL", "postgres://app:@db.internal/app"),
    ("DATABASE_URL", "postgres://app:YOUR_PASSWORD@db.internal/app"),
    ("DB", "Server=db.internal;Password=${DB_PASSWORD};"),
    ("DB", "Server=db.internal;Password={{resolve:secretsmanager:db}};"),
    ("DB", "Server=db.internal;Integrated Security=true;"),
    ("DB", "Server=db.internal;Password=;"),
    ("JDBC_URL", "jdbc:mysql://db.internal/app?user=u&password=${DB_PASSWORD}"),
    ("ORACLE_URL", "jdbc:oracle:thin:@//db.internal:1521/ORCL"),
    # encrypted, decrypted by the application
    ("SPRING_DATASOURCE_PASSWORD", "{cipher}AQB3jazABCDEFGHIJ"),
    ("DB_PASSWORD", "ENC(G6N718UuyPE5bHyWKyuLQSm02auQPUtm)"),
    ("DB_PASSWORD", "vault:v1:8SDd3WHDOjf7mq69CyCqYjBXAiQQAVZRkFM13ok481zoCmHnSeDX9vyf7w=="),
    # assignments inside values that hold no literal credential
    ("JAVA_OPTS", "-Xms512m -Xmx1024m -XX:+UseG1GC -Dfile.encoding=UTF-8"),
    ("JAVA_OPTS", "-Dspring.datasource.password=${DB_PASSWORD}"),
    ("OTEL_RESOURCE_ATTRIBUTES", "service.name=x,deployment.environment=prod"),
    ("FEATURES", "auth:oauth2"),
    ("LABELS", "password_policy=strict"),
    # pointers and other names
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
    ("LOG_LEVEL", "debug"),
    ("SECRET_NAME", "prod/db"),
    ("KMS_KEY_ID", "1234abcd-12ab-34cd-56ef-1234567890ab"),
    ("API_KEY", "1234"),  # short numbers only count for password words
    # "pin" the verb
    ("PIN_MEMORY", "true"),
    ("CERT_PIN", "sha256/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="),
    ("PIN_CPU", "2"),
    ("PIN_VERSION", "3"),
    ("SPRING_PROFILES_ACTIVE", "prod"),
    ("PING_INTERVAL", "30"),
]


@pytest.mark.parametrize(("name", "value", "rule"), POSITIVE, ids=[f"{n}-{r}" for n, _, r in POSITIVE])
def test_credential_fires(name: str, value: str, rule: str) -> None:
    match = classify(name, value)
    assert match is not None and match.rule == rule
    assert not match.weak_default


@pytest.mark.parametrize(("name", "value", "rule"), WEAK, ids=[f"{n}={v[:24]}" for n, v, _ in WEAK])
def test_weak_default_is_a_credential(name: str, value: str, rule: str) -> None:
    match = classify(name, value)
    assert match is not None and match.rule == rule and match.weak_default
    assert not match.cloud  # "test" in AWS_SECRET_ACCESS_KEY is no AWS key


@pytest.mark.parametrize(("name", "value"), NEGATIVE, ids=[f"{n}={v[:24]}" for n, v in NEGATIVE])
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


TEXT_POSITIVE = [
    ("--password=hunter2!", "credential-name", False),
    ("export API_TOKEN=abc123xyz && ./run", "credential-name", False),
    (f"aws configure set aws_access_key_id {AKIA}", "aws-access-key-id", False),
    ("--db-url=postgres://u:pw@h/db", "url-credentials", False),
    ("redis-cli -u redis://:S3cret@cache.internal:6379 ping", "url-credentials", False),
    ("mysql --password='hunter 2' -h db", "credential-name", False),
    ('PGPASSWORD="s3cr3t-pg" psql -h db', "credential-name", False),
    ("--token=$(echo hunter2x)", "credential-name", False),  # echoes a literal
    ('--token="$(echo hunter2x)"', "credential-name", False),
    ("curl -H 'Authorization: Bearer abc123def456'", "credential-name", False),
    ("--admin-password=admin", "credential-name", True),
    ("redis-server --requirepass=Hunter2x", "credential-name", False),
    ("sqlcmd -C 'Server=sql.internal;User ID=sa;Password=Str0ng-Pass;'", "connection-string", False),
]
TEXT_NEGATIVE = [
    "--port=8080",
    "node server.js",
    "--password-file=/run/secrets/pw",
    "echo $PASSWORD",
    # command substitutions read the value at run time: references, not literals
    "--token=$(cat /run/secrets/token)",
    '--token="$(cat /run/secrets/token)"',
    "--token=`cat /run/secrets/token`",
    "--token=$(< /run/secrets/token)",
    "TOKEN=$(aws secretsmanager get-secret-value --secret-id t --query SecretString --output text) ./run",
    "--token=$(cat",  # a command line split on spaces into the list ECS runs
    "--password=$(echo $DB_PASSWORD)",
    "curl -H 'Authorization: Bearer $TOKEN' https://api.internal",
    "--password=$DB_PASSWORD",
    "--password=${DB_PASSWORD}",
    "--password=",
    "--db-url=postgres://u:password@db.example.com/app",
    "htpasswd -b admin:$apr1$ruca84Hq$mbjdMZBAG.KWn7vfN/SNK/",
]


@pytest.mark.parametrize(("text", "rule", "weak"), TEXT_POSITIVE, ids=[t for t, _, _ in TEXT_POSITIVE])
def test_text_matches(text: str, rule: str, weak: bool) -> None:
    found = list(text_matches(text))
    assert [m.rule for _, _, m in found] == [rule]
    assert found[0][2].weak_default is weak


@pytest.mark.parametrize("text", TEXT_NEGATIVE)
def test_text_without_credentials(text: str) -> None:
    assert list(text_matches(text)) == []


def test_text_match_returns_the_value_read() -> None:
    """The text a command credential is fingerprinted by is the value itself, unquoted."""
    assert [(n, v) for n, v, _ in text_matches("mysql --password='hunter 2'")] == [("password", "hunter 2")]
    assert [(n, v) for n, v, _ in text_matches("--token=$(echo hunter2x)")] == [("token", "hunter2x")]


@pytest.mark.parametrize(
    ("value_from", "literal"),
    [
        ("arn:aws:secretsmanager:eu-west-1:1:secret:db", False),
        ("arn:aws:ssm:eu-west-1:1:parameter/db", False),
        ("/prod/db/password", False),
        ("db-password", False),
        ("$$$SECRET_NAME$$$", False),
        ("${JWT_SECRET_ARN}", False),
        ("<NEW_RELIC_LICENSE_KEY_SECRET_ARN>", False),
        ("__DATABASE_URL_SECRET_ARN__", False),
        ("p@ss w0rd!", True),
        ("Pa55word${X}", True),
        (AKIA, True),
        ("Server=db.internal;Password=Str0ng-Pass;", True),
    ],
)
def test_literal_secret_reference(value_from: str, literal: bool) -> None:
    assert (literal_secret_reference(value_from) is not None) is literal


@pytest.mark.parametrize(
    ("host", "documentation"),
    [
        ("example.com", True),
        ("db.example.com", True),
        ("db.example.com:5432", True),
        ("EXAMPLE.NET.", True),
        ("example.org", True),
        ("api.example", True),
        ("db.test", True),
        ("x.invalid", True),
        ("localhost", False),  # decided: a sidecar on the task's loopback has real passwords
        ("db.localhost", False),
        ("example.com.attacker.io", False),
        ("notexample.com", False),
        ("examples.com", False),
        ("test.internal", False),
        ("[::1]", False),
    ],
)
def test_documentation_hosts(host: str, documentation: bool) -> None:
    assert is_documentation_host(host) is documentation


def test_every_rule_has_a_description_and_cases() -> None:
    assert set(SHAPE_RULES) <= set(RULE_DESCRIPTIONS)
    tested = {rule for _, _, rule in POSITIVE + WEAK}
    untested = [rule for rule in SHAPE_RULES if rule not in tested]
    assert not untested, f"shape rules without a positive case: {untested}"


def test_trigger_prefilter_covers_every_shape() -> None:
    """The literal trigger must let through every value a shape rule matches."""
    for _, value, rule in POSITIVE + WEAK:
        if rule in SHAPE_RULES:
            assert credentials._TRIGGER.search(value), rule


def test_name_prefilter_covers_every_credential_word() -> None:
    """A credential word the prefilter cannot see is unreachable (``pin`` was)."""
    for word in credentials._WORDS:
        assert credentials._has_hint(word), word
        assert credentials._has_hint(word.upper()), word
    for qualifier in credentials._KEY_QUALIFIERS:
        assert credentials._has_hint(f"{qualifier}_key"), qualifier
    for name in credentials._AWS_CONFIG_NAMES:
        assert credentials._has_hint(name), name


# --------------------------------------------------------------------------- linear time

LIMIT_S = 2.0  # generous: every value scans in under 0.5 s on an idle machine; quadratic code takes hours


def _timed(call) -> float:
    """Seconds the call takes; a second try when over the limit rides out a busy machine (linear
    code passes it, quadratic code fails both)."""
    best = float("inf")
    for _ in range(2):
        t = time.perf_counter()
        call()
        best = min(best, time.perf_counter() - t)
        if best < LIMIT_S:
            break
    return best


@pytest.mark.parametrize(
    ("rule", "what", "build"), ADVERSARIAL, ids=[f"{rule}: {what}" for rule, what, _ in ADVERSARIAL]
)
def test_adversarial_values_scan_in_linear_time(rule: str, what: str, build) -> None:
    value = build(MB)
    calls = {
        "credential name": lambda: classify("DB_PASSWORD", value),
        "plain name": lambda: classify("CONFIG", value),
        "AWS name": lambda: classify("AWS_SECRET_ACCESS_KEY", value),
        "command / label text": lambda: list(text_matches(value)),
        "secrets valueFrom": lambda: literal_secret_reference(value),
    }
    slow = {k: round(t, 2) for k, call in calls.items() if (t := _timed(call)) > LIMIT_S}
    assert not slow, f"1 MB {what!r} against {rule}: {slow}"


@pytest.mark.parametrize(("what", "build"), ADVERSARIAL_NAMES, ids=[w for w, _ in ADVERSARIAL_NAMES])
def test_adversarial_names_scan_in_linear_time(what: str, build) -> None:
    name = build(MB)
    assert _timed(lambda: classify(name, "hunter2-Orders")) < LIMIT_S
    assert _timed(lambda: list(text_matches(f"{name}=hunter2-Orders"))) < LIMIT_S


def test_issue_9_value_is_fast_and_harmless() -> None:
    """The value of issue #9 (over 60 s before): 300 kB of colons after ``a://``."""
    value = "a://" + ":" * 300_000
    assert _timed(lambda: classify("DATABASE_URL", value)) < 0.5
    assert classify("DATABASE_URL", value) is None


# --------------------------------------------------------------------------- as traits


def _hits(doc) -> dict:
    from conftest import scan_doc

    [finding] = scan_doc(doc).findings
    return finding, {h.trait_id: h for h in finding.hits}


def test_weak_default_is_reported_and_explained() -> None:
    from builders import container, taskdef

    doc = taskdef(
        container(
            environment=[
                {"name": "DB_PASSWORD", "value": "changeme"},
                {"name": "LOG_LEVEL", "value": "debug"},
            ]
        ),
        revision=None,
    )
    finding, hits = _hits(doc)
    hit = hits["plaintext-credentials"]
    assert hit.qualifiers == {"weak-default"}
    [ev] = hit.evidence
    facts = dict(ev.facts)
    assert facts["weakDefault"] is True and facts["rule"] == "credential-name" and facts["cloud"] is False
    assert "weak-default" in ev.summary and "changeme" not in ev.summary
    # the rating is the spec's; the explanation names the weak default where the trait counts
    assert finding.likelihood.label == "Moderate" and finding.impact.label == "Medium"
    assert "plaintext-credentials (weak-default)" in finding.explanation


def test_strong_credential_is_not_called_weak() -> None:
    from builders import container, taskdef

    doc = taskdef(container(environment=[{"name": "DB_PASSWORD", "value": "Xq7-hunter2"}]), revision=None)
    finding, hits = _hits(doc)
    assert hits["plaintext-credentials"].qualifiers == frozenset()
    assert dict(hits["plaintext-credentials"].evidence[0].facts)["weakDefault"] is False
    assert "weak-default" not in finding.explanation


def test_credentials_outside_environment_new_cases() -> None:
    from builders import container, taskdef

    doc = taskdef(
        container(
            command=[
                "sh",
                "-c",
                "exec app --token=$(cat /run/secrets/token) --db=Server=s;Password=Str0ng-Pass;",
            ],
            entryPoint=["--api-key=$(echo 9f8e7d6c5b4a)"],
            dockerLabels={
                "db": "Server=sql.internal;Password=Str0ng-Pass;",
                "docs": "postgres://u:pw@db.example.com",
            },
        ),
        revision=None,
    )
    _, hits = _hits(doc)
    found = {
        (dict(e.facts)["field"], dict(e.facts)["rule"])
        for e in hits["credentials-outside-environment"].evidence
    }
    assert found == {
        ("command[2]", "connection-string"),
        ("entryPoint[0]", "credential-name"),
        ("dockerLabels", "connection-string"),
    }


def test_corpus_weak_defaults() -> None:
    """Real task definitions: the guessable defaults they hold are reported as such (and the
    notset secret, unreported before, is reported)."""
    from conftest import SHARED, require_shared
    from ecs_exposure.engine import ScanOptions, scan
    from ecs_exposure.sources import load_paths

    corpus = require_shared(SHARED / "corpus" / "taskdefs")
    weak: dict[str, set[str]] = {}
    for prefix in ("039_", "218_", "221_", "241_", "267_", "101_"):
        [path] = corpus.glob(f"{prefix}*.json")
        for f in scan(load_paths([path]), ScanOptions()).findings:
            for h in f.hits:
                if h.trait_id == "plaintext-credentials":
                    weak[prefix] = {
                        str(dict(e.facts)["variable"]) for e in h.evidence if dict(e.facts)["weakDefault"]
                    }
    assert weak == {
        "039_": {"MYSQL_ROOT_PASSWORD"},  # my-secret-pw, MySQL's documented example
        "218_": {"DB_MYSQL_PASSWORD"},  # test1234
        "221_": {"APPLICATION_SECRET"},  # notset
        "241_": {"EMPIRE_DATABASE_URL"},  # postgres:postgres
        "267_": {"JASYPT_ENCRYPTOR_PASSWORD"},  # changeme
        "101_": set(),  # a real password, not a default
    }
