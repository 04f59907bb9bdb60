"""The reports in a real browser: headless Chromium opens each page with no console messages,
and saves a screenshot and a printed PDF under tests/artifacts/reports/ to look at."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import matplotlib
import pytest
from helpers import Clock
from report_month import cli, month

from between.engine.app import Homework
from between.engine.storage.store import Store

matplotlib.use("Agg")
ARTIFACTS = Path(__file__).parent / "artifacts" / "reports"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture(scope="module")
def chromium() -> str:
    if not Path(CHROMIUM).exists():
        message = "Chromium is not installed (apt-get install chromium; .ci/run does)"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(message + " — required in CI")
        pytest.skip(message)
    return CHROMIUM


def browse(chromium: str, page: Path, profile: Path, *how: str) -> str:
    """Run headless Chromium on ``page``; its log, which must hold no console message."""
    done = subprocess.run(
        [
            chromium,
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--hide-scrollbars",
            f"--user-data-dir={profile}",
            "--enable-logging=stderr",
            "--v=0",
            *how,
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert not re.search(r"CONSOLE|Uncaught|Failed to load resource", done.stderr), done.stderr
    return done.stderr


def ink(png: Path) -> float:
    """How much of a screenshot is not background (0 for a blank page)."""
    from matplotlib.image import imread

    pixels = imread(png)[..., :3]
    return float((pixels.mean(axis=2) < 0.6).mean())


@pytest.mark.slow
def test_reports_open_in_chromium_and_print(chromium, tmp_path):
    url = str(tmp_path / "month.db")
    store = Store.parse(url)
    Homework.initialise(store)
    app = Homework(store, clock=Clock())
    month(app, app.clock)
    app.close()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for name, args in [("client", ("C-104",)), ("clinic", ("--clinic",))]:
        page = ARTIFACTS / f"{name}.html"
        cli(url, "report", *args, "-o", str(page))
        png, pdf = ARTIFACTS / f"{name}.png", ARTIFACTS / f"{name}.pdf"
        for old in (png, pdf):
            old.unlink(missing_ok=True)
        browse(
            chromium, page, tmp_path / "profile", f"--screenshot={png}", "--window-size=1200,2000"
        )
        browse(
            chromium, page, tmp_path / "profile", f"--print-to-pdf={pdf}", "--no-pdf-header-footer"
        )
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and ink(png) > 0.01
        printed = pdf.read_bytes()
        assert printed.startswith(b"%PDF") and len(re.findall(rb"/Type\s*/Page\b", printed)) >= 1
