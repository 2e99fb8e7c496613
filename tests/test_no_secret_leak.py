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
    assert repr(s) == f"Secret(sha256:{s.fingerprint})"
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
