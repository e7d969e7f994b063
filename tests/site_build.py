"""Helpers of the site tests: a scratch copy of the project, the CLI run in it, a local web server and a
headless Chromium (Debian's, driven by Playwright)."""

from __future__ import annotations

import contextlib
import functools
import http.server
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path
from typing import Iterator

from helpers.publish import pdf

from .conftest import ROOT

ARTIFACTS = ROOT / "artifacts"  # gitignored: screenshots and PDF page images for a person to look at


def scratch_project(root: Path) -> Path:
    for name in ("_config.yml", "pyproject.toml"):
        shutil.copy(ROOT / name, root / name)
    for folder in ("book", "notebooks", "params"):
        shutil.copytree(ROOT / folder, root / folder, ignore=shutil.ignore_patterns("leas", "_generated"))
    return root


def cli(root: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "CAASPP_BOOK_ROOT": str(root), "PYTHONPATH": str(ROOT / "src")}
    return subprocess.run([sys.executable, "-m", "helpers.cli", *args], cwd=root, env=env,
                          capture_output=True, text=True, timeout=900)


def steps(root: Path, *commands: tuple[str, ...]) -> None:
    for step in commands:
        result = cli(root, *step)
        assert result.returncode == 0, f"{step}: {result.stdout}\n{result.stderr}"


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


@contextlib.contextmanager
def serve(folder: Path) -> Iterator[str]:
    """The folder over HTTP on a free local port (as a web host would serve the published site)."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/"
    finally:
        server.shutdown()
        server.server_close()


@contextlib.contextmanager
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=pdf.chromium(), args=pdf.CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


def pdf_pages(path: Path) -> list[str]:
    """The text of each page of a PDF (pdftotext -layout)."""
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout
    return text.split("\f")[:-1] if text.endswith("\f") else text.split("\f")


def page_images(path: Path, out: Path, dpi: int = 60) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob(f"{path.stem}-*.png"):
        old.unlink()
    subprocess.run(["pdftoppm", "-r", str(dpi), "-png", str(path), str(out / path.stem)], check=True)
    return sorted(out.glob(f"{path.stem}-*.png"))
