"""The HTML report in a real headless Chromium (Debian's ``chromium``, driven by Playwright through
``executable_path``; no browser is downloaded). The page must load with no console error and no
network request, show every finding, filter by severity, sort, and read without JavaScript.
A screenshot is saved for a person to look at (``tests/artifacts/``, git-ignored)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from conftest import ROOT
from ecs_exposure.outputs import html
from format_fixtures import NOW, states_result

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = ROOT / "tests" / "artifacts"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory):
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail("chromium is missing: .ci/run installs Debian's chromium package")
        pytest.skip("chromium not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(profile),
            executable_path=CHROMIUM,
            headless=True,
            args=ARGS,
            viewport={"width": 1400, "height": 1000},
        )
        yield context
        context.close()


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("html") / "findings.html"
    path.write_text(html.render(states_result(), now=NOW), encoding="utf-8")
    return path


def _open(browser, report: Path):
    page = browser.new_page()
    problems: list[str] = []
    requests: list[str] = []
    page.on(
        "console",
        lambda m: problems.append(f"{m.type}: {m.text}") if m.type in ("error", "warning") else None,
    )
    page.on("pageerror", lambda e: problems.append(f"pageerror: {e}"))
    page.on("request", lambda r: requests.append(r.url))
    page.goto(report.as_uri())
    page.wait_for_load_state("load")
    return page, problems, requests


def test_report_in_chromium(browser, report: Path) -> None:
    page, problems, requests = _open(browser, report)
    assert problems == []  # no console error, no CSP violation
    assert requests == [report.as_uri()]  # self-contained: nothing else is fetched
    result = states_result()
    rows = page.locator("tbody.finding")
    assert rows.count() == len(result.findings)
    for f in result.findings:
        assert page.locator(f"#finding-{f.id}").is_visible()
    assert (
        page.locator("#shown-count").inner_text()
        == f"{len(result.findings)} of {len(result.findings)} findings shown"
    )

    # the exposure path of web: internet → load balancer / public IP → security group → service → role → reach
    web = next(f for f in result.findings if f.resource.name == "web")
    page.locator(f"#finding-{web.id} details > summary").click()
    path = page.locator(f"#finding-{web.id} .path")
    assert path.is_visible()
    stages = path.locator(".stage-name").all_inner_texts()
    assert [s.lower() for s in stages] == [
        "internet",
        "entry",
        "security group",
        "service",
        "task role",
        "can reach",
    ]
    assert "Load balancer shop-public" in path.inner_text()

    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "report.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000

    # filter by severity: only CRITICAL
    for sev in ("HIGH", "MEDIUM", "LOW", "INFORMATIONAL"):
        page.locator(f"input[name=severity][value={sev}]").uncheck()
    critical = [f for f in result.findings if f.severity.name == "CRITICAL"]
    visible = [r for r in rows.all() if r.is_visible()]
    assert len(visible) == len(critical) == 2
    assert all(r.get_attribute("data-severity") == "CRITICAL" for r in visible)
    page.screenshot(path=str(ARTIFACTS / "report-critical.png"))
    page.locator("input[name=severity][value=HIGH]").check()
    assert sum(1 for r in rows.all() if r.is_visible()) == 4

    # hide suppressed (worker is HIGH and suppressed)
    page.locator("#show-suppressed").uncheck()
    assert not page.locator("tbody.finding[data-status=Suppressed]").is_visible()
    page.locator("#show-suppressed").check()

    # text search
    page.locator("#search").fill("node-agent")
    assert [r.get_attribute("data-resource") for r in rows.all() if r.is_visible()] == ["node-agent"]
    page.locator("#search").fill("")

    # sort by resource name, then back by severity
    page.locator("th button[data-sort=resource]").click()
    names = [r.get_attribute("data-resource") for r in page.locator("tbody.finding").all()]
    assert names == sorted(names, reverse=True)
    page.locator("th button[data-sort=resource]").click()
    names = [r.get_attribute("data-resource") for r in page.locator("tbody.finding").all()]
    assert names == sorted(names)
    assert problems == []
    page.close()


def test_report_readable_without_javascript(browser, report: Path) -> None:
    page = browser.new_page()
    cdp = page.context.new_cdp_session(page)  # scripts off for this page only
    cdp.send("Emulation.setScriptExecutionDisabled", {"value": True})
    page.goto(report.as_uri())
    result = states_result()
    assert page.locator("tbody.finding").count() == len(result.findings)
    assert not page.locator("#filters").is_visible()  # controls that need JavaScript are hidden
    assert page.locator(".summary .card").count() == 5
    first = result.findings[0]
    page.locator(f"#finding-{first.id} details > summary").click()  # native <details>, no script
    assert page.locator(f"#finding-{first.id} .trait").first.is_visible()
    page.screenshot(path=str(ARTIFACTS / "report-no-js.png"))
    page.close()
