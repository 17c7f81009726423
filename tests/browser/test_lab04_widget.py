"""A student's clicks in a real browser: JupyterLab on 127.0.0.1, lab 04's solution notebook run in headless
Chromium (Debian's ``chromium``, driven by Playwright's Python package with ``executable_path``), accept
and reject clicked in the curation widget, and the decisions file holding exactly those two decisions.

Screenshots go to ``runs/browser/`` (the notebook after Run All, then after the clicks). Skipped, with the
reason, only where no Chromium or no Playwright is installed (``bash scripts/setup.sh`` installs both
where ``apt-get`` may run).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SHOTS = ROOT / "runs" / "browser"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def lab_server(tmp_path):
    """JupyterLab serving a copy of ``solutions/04_curation.ipynb`` from ``tmp_path`` (token-protected)."""
    if CHROMIUM is None:
        pytest.skip("no Chromium here (bash scripts/setup.sh installs Debian's chromium where apt-get may run)")
    pytest.importorskip("playwright", reason="Playwright's Python package is not installed (the dev extra has it)")
    shutil.copy(ROOT / "solutions" / "04_curation.ipynb", tmp_path / "04_curation.ipynb")
    port, token = _free_port(), "itdeploy-browser-test"
    env = {k: v for k, v in os.environ.items() if k != "ITDEPLOY_LAB_DEMO"}  # a student: no scripted curator
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
         f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={tmp_path}", "--allow-root"],
        cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    deadline = time.time() + 120
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status?token={token}", timeout=2)
            break
        except OSError:
            if server.poll() is not None or time.time() > deadline:
                server.kill()
                raise AssertionError(f"JupyterLab did not start: {server.stderr.read().decode()[-1500:]}")
            time.sleep(0.5)
    yield f"http://127.0.0.1:{port}", token, tmp_path
    server.terminate()
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.kill()


def test_clicks_in_the_widget_reach_the_decisions_file(lab_server):
    from playwright.sync_api import sync_playwright

    url, token, folder = lab_server
    SHOTS.mkdir(parents=True, exist_ok=True)
    decisions = folder / "lab04_run" / "decisions.jsonl"
    start = time.perf_counter()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(f"{url}/lab/tree/04_curation.ipynb?token={token}")
        page.wait_for_selector(".jp-Notebook", timeout=120_000)
        time.sleep(5)  # the kernel starts
        page.get_by_role("menuitem", name="Run", exact=True).click()
        page.get_by_role("menuitem", name="Run All Cells", exact=True).click()
        accept = page.get_by_role("button", name="accept (a)")
        deadline = time.time() + 300  # the lab deploys the model, then draws the widget
        while accept.count() == 0 and time.time() < deadline:
            time.sleep(1)
        assert accept.count() == 1, "the curation widget was not drawn"
        time.sleep(3)
        accept.scroll_into_view_if_needed()  # JupyterLab renders cells near the viewport only
        page.screenshot(path=str(SHOTS / "lab04_before_clicks.png"))
        assert not decisions.exists()  # nothing decided before the student clicks (DEMO is off)
        accept.click()
        deadline = time.time() + 30
        while not (decisions.exists() and decisions.read_text().count("\n") >= 1) and time.time() < deadline:
            time.sleep(0.2)
        page.get_by_role("button", name="reject (r)").click()
        while not (decisions.exists() and decisions.read_text().count("\n") >= 2) and time.time() < deadline:
            time.sleep(0.2)
        page.screenshot(path=str(SHOTS / "lab04_after_clicks.png"))
        browser.close()
    lines = [json.loads(line) for line in decisions.read_text().splitlines()]
    assert [d["decision"] for d in lines] == ["accept", "reject"]  # exactly the two clicks, in order
    assert len({(d.get("generation"), d["task_id"], d["sample_id"]) for d in lines}) == 2  # two traces
    print(f"browser test: {time.perf_counter() - start:.0f} s; screenshots in {SHOTS}")
