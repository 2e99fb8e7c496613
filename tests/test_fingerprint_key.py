"""Keyed fingerprints (spec §4): HMAC-SHA-256 of the value, 12 hex characters, and where the key
comes from. Key files are only ever made under a temporary data directory."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import shutil
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from builders import container, taskdef
from conftest import TEST_FINGERPRINT_KEY, scan_doc
from ecs_exposure import fingerprint as fp
from ecs_exposure.model import Secret

VALUE = "hunter2-Orders"
OTHER_KEY = "ff" * 32


@pytest.fixture
def fresh_key(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    """No key resolved yet, the environment variable unset, and the data directory in tmp_path."""
    monkeypatch.delenv(fp.ENV_VAR, raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    fp.set_fingerprint_key(None)
    yield tmp_path / "data" / "ecs-exposure" / fp.KEY_FILE_NAME
    fp.set_fingerprint_key(None)  # the next test resolves the suite's key from the environment again


def expected(key_hex: str, value: str = VALUE) -> str:
    return hmac.new(bytes.fromhex(key_hex), value.encode(), hashlib.sha256).hexdigest()[:12]


def test_the_suite_runs_with_a_fixed_key() -> None:
    assert os.environ[fp.ENV_VAR] == TEST_FINGERPRINT_KEY
    fp.set_fingerprint_key(None)
    assert fp.fingerprint(VALUE) == expected(TEST_FINGERPRINT_KEY)
    assert fp.current_key().source == "environment"


def test_fingerprint_is_a_keyed_hmac_not_a_plain_hash() -> None:
    print_ = fp.fingerprint(VALUE)
    assert len(print_) == 12 and int(print_, 16) >= 0
    assert print_ != hashlib.sha256(VALUE.encode()).hexdigest()[:12]
    assert fp.key_id() == hashlib.sha256(bytes.fromhex(TEST_FINGERPRINT_KEY)).hexdigest()[:8]


def test_a_team_sharing_a_key_recognises_the_same_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    """Same key → same fingerprint (on another machine, in another run); another key → another."""
    shared = "a1" * 32
    runs = []
    for key in (shared, shared, OTHER_KEY):
        monkeypatch.setenv(fp.ENV_VAR, key)
        fp.set_fingerprint_key(None)
        runs.append((fp.fingerprint(VALUE), fp.key_id()))
    fp.set_fingerprint_key(None)
    assert runs[0] == runs[1]
    assert runs[2][0] != runs[0][0] and runs[2][1] != runs[0][1]
    # and across processes: a fresh interpreter with the same key gives the same fingerprint
    code = "from ecs_exposure.fingerprint import fingerprint; print(fingerprint('hunter2-Orders'))"
    out = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, fp.ENV_VAR: shared},
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert out == runs[0][0] == expected(shared)


def test_an_explicit_key_comes_first(monkeypatch: pytest.MonkeyPatch) -> None:
    try:
        fp.set_fingerprint_key(bytes.fromhex(OTHER_KEY))
        assert fp.fingerprint(VALUE) == expected(OTHER_KEY) and fp.current_key().source == "explicit"
        fp.set_fingerprint_key("  " + OTHER_KEY.upper() + "\n")  # text: hex, blanks ignored
        assert fp.fingerprint(VALUE) == expected(OTHER_KEY)
        assert Secret(VALUE).fingerprint == expected(OTHER_KEY)
    finally:
        fp.set_fingerprint_key(None)
    assert fp.fingerprint(VALUE) == expected(TEST_FINGERPRINT_KEY)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "is empty"),
        ("not-hex-at-all", "is not hexadecimal"),
        ("abcd", "is too short"),
        ("0" * 31, "is not hexadecimal"),  # odd length
    ],
)
def test_a_bad_key_is_refused_without_showing_it(monkeypatch: pytest.MonkeyPatch, text: str, problem: str):
    with pytest.raises(fp.FingerprintKeyError, match=problem) as e:
        fp.set_fingerprint_key(text)
    assert not text or text not in str(e.value)
    monkeypatch.setenv(fp.ENV_VAR, text)
    message = fp.environment_key_problem()
    assert message is not None and problem in message and fp.ENV_VAR in message
    with pytest.raises(fp.FingerprintKeyError):
        fp.set_fingerprint_key(b"short")


def test_cli_refuses_a_bad_environment_key(tmp_path: Path) -> None:
    exe = shutil.which("ecs-exposure", path=os.path.dirname(sys.executable))
    assert exe
    p = subprocess.run(
        [exe, "scan", "--example"],
        env={**os.environ, fp.ENV_VAR: "secret-passphrase"},
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert p.returncode == 2 and p.stdout == ""
    assert p.stderr.splitlines() == [
        f"ecs-exposure: error: {fp.ENV_VAR} is not hexadecimal (write the key as hex digits)"
    ]


def test_the_installation_key_is_made_once_with_mode_0600(fresh_key: Path) -> None:
    assert not fresh_key.exists()
    first = fp.fingerprint(VALUE)
    assert fresh_key.is_file()
    assert stat.S_IMODE(fresh_key.stat().st_mode) == 0o600
    key_hex = fresh_key.read_text().strip()
    assert len(bytes.fromhex(key_hex)) == 32
    assert first == expected(key_hex)
    assert fp.current_key().source == "file" and fp.current_key().location == str(fresh_key)
    # the next run reads the same key
    fp.set_fingerprint_key(None)
    assert fp.fingerprint(VALUE) == first
    assert [p.name for p in fresh_key.parent.iterdir()] == [fp.KEY_FILE_NAME]  # no temporary file left


def test_a_key_file_written_by_the_team_is_used(fresh_key: Path) -> None:
    fresh_key.parent.mkdir(parents=True)
    fresh_key.write_text(OTHER_KEY + "\n")
    assert fp.fingerprint(VALUE) == expected(OTHER_KEY)


RACER = """
import sys, time
from pathlib import Path
go = Path(sys.argv[1])
while not go.exists():
    time.sleep(0.001)
from ecs_exposure.fingerprint import current_key
print(current_key().id, current_key().source)
"""


def test_processes_racing_to_make_the_key_end_with_one(fresh_key: Path, tmp_path: Path) -> None:
    go = tmp_path / "go"
    env = {k: v for k, v in os.environ.items() if k != fp.ENV_VAR}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", RACER, str(go)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(8)
    ]
    time.sleep(0.5)  # let every interpreter start and wait at the line
    go.touch()
    results = [p.communicate(timeout=60) for p in procs]
    assert all(p.returncode == 0 for p in procs), [err for _, err in results]
    ids = {out.strip() for out, _ in results}
    assert len(ids) == 1, ids
    key_id, source = ids.pop().split()
    assert source == "file"
    assert key_id == hashlib.sha256(bytes.fromhex(fresh_key.read_text().strip())).hexdigest()[:8]
    assert [p.name for p in fresh_key.parent.iterdir()] == [fp.KEY_FILE_NAME]


def test_no_writable_data_directory_means_a_one_time_key_and_one_note(
    fresh_key: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    monkeypatch.setenv("XDG_DATA_HOME", str(blocker))  # the data directory would be inside a file
    first = fp.fingerprint(VALUE)
    assert fp.fingerprint(VALUE) == first and fp.current_key().source == "ephemeral"
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "one-time key" in err and fp.ENV_VAR in err
    fp.set_fingerprint_key(None)
    assert fp.fingerprint(VALUE) != first  # a new run, a new one-time key


def test_a_damaged_key_file_is_not_replaced(fresh_key: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fresh_key.parent.mkdir(parents=True)
    fresh_key.write_text("this is not a key\n")
    fp.fingerprint(VALUE)
    assert fp.current_key().source == "ephemeral"
    err = capsys.readouterr().err
    assert str(fresh_key) in err and "not hexadecimal" in err and "this is not a key" not in err
    assert fresh_key.read_text() == "this is not a key\n"


def test_evidence_names_the_key_by_its_id_only() -> None:
    doc = taskdef(container(environment=[{"name": "DB_PASSWORD", "value": VALUE}]), revision=None)
    result = scan_doc(doc)
    [hit] = [h for f in result.findings for h in f.hits if h.trait_id == "plaintext-credentials"]
    facts = dict(hit.evidence[0].facts)
    assert facts["fingerprint"] == expected(TEST_FINGERPRINT_KEY)
    assert facts["fingerprintKey"] == fp.key_id()
    assert TEST_FINGERPRINT_KEY not in json.dumps(facts)
    assert repr(Secret(VALUE)) == f"Secret(hmac:{expected(TEST_FINGERPRINT_KEY)})"
