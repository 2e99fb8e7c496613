"""No detected credential value may appear in any output, log line or error message (spec §4)."""

from __future__ import annotations

import json
import pickle
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from builders import container, taskdef
from conftest import SHARED, require_shared
from ecs_exposure.credentials import classify, literal_secret_reference, text_matches
from ecs_exposure.model import Evidence, Secret
from ecs_exposure.outputs import FORMATS

EXAMPLE = Path(__file__).parent.parent / "src/ecs_exposure/examples/estate.json"


def planted_values(doc: Any) -> Iterator[str]:
    """Every value in a document that the detectors treat as a credential."""
    if isinstance(doc, list):
        for item in doc:
            yield from planted_values(item)
        return
    if not isinstance(doc, dict):
        return
    for e in doc.get("environment") or []:
        if (
            isinstance(e, dict)
            and isinstance(e.get("value"), str)
            and classify(str(e.get("name")), e["value"])
        ):
            yield e["value"]
    for key in ("command", "entryPoint"):
        for arg in doc.get(key) or []:
            if isinstance(arg, str):
                yield from (text for _, text, _ in text_matches(arg))
    labels = doc.get("dockerLabels")
    if isinstance(labels, dict):
        for k, v in labels.items():
            yield from (text for _, text, _ in text_matches(f"{k}={v}"))
    for s in doc.get("secrets") or []:
        if (
            isinstance(s, dict)
            and isinstance(s.get("valueFrom"), str)
            and literal_secret_reference(s["valueFrom"])
        ):
            yield s["valueFrom"]
    for v in doc.values():
        yield from planted_values(v)


def all_outputs(cli, *args: str) -> str:
    text = ""
    for fmt in FORMATS:
        for extra in ((), ("--include-informational",)):
            r = cli("scan", *args, "--format", fmt, *extra)
            text += r.out + r.err
    r = cli("scan", *args, "--color", "always")
    text += r.out + r.err
    r = cli("scan", *args, "--color", "always", "--compact")
    text += r.out + r.err
    r = cli("fix", *args, "--format", "markdown")
    return text + r.out + r.err


def test_example_plants_credentials() -> None:
    values = set(planted_values(json.loads(EXAMPLE.read_text())))
    assert len(values) >= 6  # the example really carries credentials for this test to look for


def test_example_outputs_hold_no_credential(cli) -> None:
    values = set(planted_values(json.loads(EXAMPLE.read_text())))
    text = all_outputs(cli, "--example")
    for value in values:
        assert value not in text


def test_file_input_outputs_hold_no_credential(cli, tmp_path: Path) -> None:
    """Every format written for a task definition file (SARIF then carries lines of that file)."""
    from ecs_exposure.outputs import FORMATS

    source = Path(__file__).parent / "data" / "taskdef-lines.json"
    values = set(planted_values(json.loads(source.read_text())))
    assert values
    r = cli(
        "scan", str(source), "--format", ",".join(FORMATS), "--output-dir", "out", "--asff-account",
        "123456789012", "--asff-region", "us-east-1", "--include-informational",
    )  # fmt: skip
    assert r.code == 0, r.err
    written = "".join(p.read_text() for p in (tmp_path / "out").iterdir()) + r.out + r.err
    assert len(list((tmp_path / "out").iterdir())) == len(FORMATS)
    for value in values:
        assert value not in written


LEAKY = "Sup3r-Secret-Value-9d8f7"


def test_bad_input_messages_hold_no_credential(cli, tmp_path: Path) -> None:
    # the value next to the syntax error, in a wrong-typed field, in a wrong-typed list
    (tmp_path / "truncated.json").write_text(
        '{"containerDefinitions": [{"name": "a", "environment": [{"name": "DB_PASSWORD", "value": "' + LEAKY
    )
    (tmp_path / "typed.json").write_text(
        json.dumps(
            taskdef(
                container(
                    environment=[{"name": "DB_PASSWORD", "value": {"nested": LEAKY}}],
                    command=LEAKY,
                    privileged=LEAKY,
                    user=[LEAKY],
                ),
                revision=None,
            )
        )
    )
    (tmp_path / "garbage.json").write_text(f"DB_PASSWORD={LEAKY}")
    r = cli("scan", ".", "-f", "json", "--include-informational", cwd=tmp_path)
    assert r.code == 3 and r.err
    assert LEAKY not in r.out + r.err
    r = cli("scan", "truncated.json", "typed.json", "garbage.json", cwd=tmp_path)
    assert LEAKY not in r.out + r.err


def test_corpus_credentials_never_printed() -> None:
    """Real task definitions with real leaked credentials: each file is scanned and rendered on its
    own (a value may legitimately equal an unrelated name in another file)."""
    from ecs_exposure.engine import ScanOptions, scan
    from ecs_exposure.sources import load_paths

    corpus = require_shared(SHARED / "corpus" / "taskdefs")
    checked = 0
    for f in sorted(corpus.glob("*.json")):
        values = {v for v in planted_values(json.loads(f.read_text())) if len(v) >= 6}
        if not values:
            continue
        result = scan(load_paths([f]), ScanOptions(include_informational=True))
        rendered = [
            render(result, color=c, compact=c, account_id="111122223333", region="eu-west-1")
            for render in FORMATS.values()
            for c in (False, True)
        ]
        text = "".join(r.decode() if isinstance(r, bytes) else r for r in rendered)
        for value in values:
            assert value not in text, f.name
        checked += 1
    assert checked >= 10, "the corpus holds real credentials; finding few means the detector broke"


def test_secret_type_never_shows_its_value() -> None:
    s = Secret(LEAKY)
    assert LEAKY not in repr(s) and LEAKY not in str(s) and LEAKY not in f"{s}"
    assert repr(s) == f"Secret(hmac:{s.fingerprint})"
    with pytest.raises(TypeError):
        pickle.dumps(s)
    with pytest.raises(TypeError):
        json.dumps(s)


def test_evidence_refuses_a_secret() -> None:
    with pytest.raises(TypeError):
        Evidence("x", (("value", Secret(LEAKY)),))  # type: ignore[arg-type]


def test_model_repr_holds_no_value() -> None:
    from conftest import load

    inv = load(taskdef(container(environment=[{"name": "DB_PASSWORD", "value": LEAKY}]), revision=None))
    assert LEAKY not in repr(inv)


# Every credential case of issue #9, with a distinctive value (and, where the secret is a part of
# the value, that part): none may be printed in any format, error line or repr.
NEW_CASES_ENV = [
    ("REDIS_URL", "redis://:Leak-Redis-Pw-1@cache.internal:6379/0", "Leak-Redis-Pw-1"),
    ("ConnectionStrings__Default", "Server=db.internal;User ID=app;Password=Leak-Ado-Pw-2;", "Leak-Ado-Pw-2"),
    ("DB_ODBC", "DRIVER={ODBC Driver 18};SERVER=sql;UID=app;PWD={Leak-Odbc;Pw-3};", "Leak-Odbc;Pw-3"),
    ("JDBC_URL", "jdbc:mysql://db.internal/app?user=u&password=Leak-Jdbc-Pw-4&ssl=1", "Leak-Jdbc-Pw-4"),
    ("ORACLE_URL", "jdbc:oracle:thin:scott/Leak-Oracle-Pw-5@//db.internal:1521/ORCL", "Leak-Oracle-Pw-5"),
    ("SIM_PIN", "48213579", "48213579"),
    ("DB_PASSWORD", "Leak-Pa55word${X}", "Leak-Pa55word"),
    ("API_SECRET", "LEAK_PROD_DB_2024", "LEAK_PROD_DB_2024"),
    ("MYSQL_ROOT_PASSWORD", "mysecretpassword", "mysecretpassword"),
    ("KEYSTORE_PASSWORD", "changeit", "changeit"),
    ("EMPIRE_DATABASE_URL", "postgres://postgres:password123@db.internal/app", "password123"),
]
NEW_CASES_COMMAND = [
    ("--token=$(echo Leak-Echo-Tok-6)", "Leak-Echo-Tok-6"),
    ("mysql --password='Leak Quoted 7' -h db", "Leak Quoted 7"),
    ("curl -H 'Authorization: Bearer LeakBearer8xyz'", "LeakBearer8xyz"),
]
NEW_CASES_LABEL = ("db", "Server=s.internal;Password=Leak-Label-Pw-9;", "Leak-Label-Pw-9")
NEW_CASES_SECRET = ("DB_PASSWORD", "Leak-Pa55word${Y}", "Leak-Pa55word")


def new_cases_document() -> dict:
    return taskdef(
        container(
            environment=[{"name": n, "value": v} for n, v, _ in NEW_CASES_ENV],
            command=[c for c, _ in NEW_CASES_COMMAND],
            dockerLabels={NEW_CASES_LABEL[0]: NEW_CASES_LABEL[1]},
            secrets=[{"name": NEW_CASES_SECRET[0], "valueFrom": NEW_CASES_SECRET[1]}],
        ),
        revision=None,
    )


def new_case_strings() -> set[str]:
    out = {s for _, v, part in NEW_CASES_ENV for s in (v, part)}
    out |= {s for c, part in NEW_CASES_COMMAND for s in (c, part)}
    out |= {NEW_CASES_LABEL[1], NEW_CASES_LABEL[2], NEW_CASES_SECRET[1], NEW_CASES_SECRET[2]}
    return out


def test_new_credential_cases_are_detected() -> None:
    """Otherwise the test below could pass by finding nothing."""
    doc = new_cases_document()
    found = set(planted_values(doc))
    assert {v for _, v, _ in NEW_CASES_ENV} <= found
    assert {"Leak-Echo-Tok-6", "Leak Quoted 7", "LeakBearer8xyz"} <= found
    assert f"{NEW_CASES_LABEL[0]}={NEW_CASES_LABEL[1]}" in found  # a label is read as "key=value"
    assert NEW_CASES_SECRET[1] in found


def test_new_credential_cases_never_printed(cli, tmp_path: Path) -> None:
    from conftest import scan_doc

    doc = new_cases_document()
    (tmp_path / "taskdef.json").write_text(json.dumps(doc))
    text = all_outputs(cli, "taskdef.json")
    assert "plaintext-credentials" in text and "credentials-outside-environment" in text
    # the same values in files that cannot be read: the error lines name the file and the problem
    (tmp_path / "bad").mkdir()
    for i, (name, value, _) in enumerate(NEW_CASES_ENV):
        (tmp_path / "bad" / f"cut{i}.json").write_text(
            '{"containerDefinitions": [{"name": "a", "environment": [{"name": "'
            + name
            + '", "value": "'
            + value
        )
        (tmp_path / "bad" / f"typed{i}.json").write_text(
            json.dumps(taskdef(container(environment=[{"name": name, "value": {"v": value}}], command=value)))
        )
    r = cli("scan", "bad", "-f", "json")
    assert r.code == 3 and r.err.count("\n") >= len(NEW_CASES_ENV)
    text += r.out + r.err
    # repr of what a program embedding the scanner holds
    from conftest import load

    result = scan_doc(doc, include_informational=True)
    text += repr(load(doc)) + repr(result) + repr(result.findings)
    leaked = sorted(s for s in new_case_strings() if s in text)
    assert not leaked, leaked
