"""Screenshot the sample weekly report at phone and desktop width with headless Chromium.

    .venv/bin/python scripts/screenshot_report.py [--week 2026-W38] [--db DEMO.duckdb] [--out-dir docs]

Builds the demo DB in a temporary folder unless ``--db`` names one, renders the report of the
sample athlete for ``--week`` to its self-contained HTML file, and has Chromium (Debian package
``chromium``, driven by Playwright with ``executable_path``: no browser download) take two
full-page screenshots: ``report-phone.png`` (390 px wide, at the density of a phone, 2x) and
``report-desktop.png`` (1280 px wide; the grey page margins beside the 680 px report trimmed).
The same browser runs the overflow test, tests/test_report_browser.py.
"""

from __future__ import annotations

import argparse
import io
import shutil
import sys
import tempfile
from pathlib import Path

import duckdb
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.app.demo import SAMPLE_DIR, run_demo  # noqa: E402
from pipeline.config import load_config  # noqa: E402
from pipeline.report.render import render_report, write_report  # noqa: E402

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")
# a fresh profile with no network features: the report is a local file with inline images
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-sync",
                 "--disable-background-networking", "--disable-component-update"]


def chromium() -> str | None:
    """The system Chromium, or None."""
    for name in CHROMIUM_NAMES:
        path = shutil.which(name)
        if path:
            return path
    return None


def trim_sides(png: bytes, margin: int = 24) -> bytes:
    """Cut the empty page background left and right of the report; returns optimised PNG bytes."""
    img = Image.open(io.BytesIO(png)).convert("RGB")
    bg = img.getpixel((0, img.height - 1))
    px = img.load()
    assert px is not None
    rows = range(0, img.height, 8)

    def empty(x: int) -> bool:
        return all(px[x, y] == bg for y in rows)

    left = 0
    while left < img.width - 1 and empty(left):
        left += 1
    right = img.width
    while right > left + 1 and empty(right - 1):
        right -= 1
    img = img.crop((max(0, left - margin), 0, min(img.width, right + margin), img.height))
    return _small_png(img)


def _small_png(img: Image.Image) -> bytes:
    # a 256-colour palette: a screenshot of flat colours and anti-aliased text stays sharp at a third the size
    buf = io.BytesIO()
    img.quantize(colors=256, method=Image.Quantize.FASTOCTREE).save(buf, format="PNG", optimize=True)
    return buf.getvalue()


def optimise(png: bytes) -> bytes:
    return _small_png(Image.open(io.BytesIO(png)).convert("RGB"))


def screenshots(html: Path, executable: str) -> dict[str, bytes]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            phone = browser.new_page(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True)
            phone.goto(html.resolve().as_uri(), wait_until="load")
            shots = {"phone": optimise(phone.screenshot(full_page=True))}
            desktop = browser.new_page(viewport=DESKTOP)
            desktop.goto(html.resolve().as_uri(), wait_until="load")
            shots["desktop"] = trim_sides(desktop.screenshot(full_page=True))
        finally:
            browser.close()
    return shots


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--week", default="2026-W38")
    ap.add_argument("--athlete", default="me")
    ap.add_argument("--db", type=Path)
    ap.add_argument("--out-dir", type=Path, default=ROOT / "docs")
    args = ap.parse_args()
    executable = chromium()
    if executable is None:
        raise SystemExit("chromium not found: apt-get install -y chromium")
    with tempfile.TemporaryDirectory(prefix="runlift-shot-") as tmp:
        db = args.db
        if db is None:
            db = Path(tmp) / "demo.duckdb"
            run_demo(db)
        con = duckdb.connect(str(db), read_only=True)
        try:
            report = render_report(con, load_config(SAMPLE_DIR / "runlift.toml"), args.athlete, args.week)
        finally:
            con.close()
        html = write_report(report, Path(tmp))["html"]
        shots = screenshots(html, executable)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    for name, data in shots.items():
        out = args.out_dir / f"report-{name}.png"
        out.write_bytes(data)
        print(f"{out}: {len(data) // 1024} KiB ({report.subject})")


if __name__ == "__main__":
    main()
