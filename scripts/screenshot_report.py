"""Screenshot the sample weekly report (docs/report.png) with headless Chromium.

    .venv/bin/python scripts/screenshot_report.py [--week 2026-W38] [--db DEMO.duckdb] [--out docs/report.png]

Builds the demo DB in a temporary folder unless ``--db`` names one, renders the report of the
sample athlete for ``--week`` to its self-contained HTML file, and has Chromium (Debian package
``chromium``; not needed by the test suite) take a 760 px wide screenshot; the page's empty bottom is
trimmed off. Chromium runs with a fresh profile and no network features.
"""

from __future__ import annotations

import argparse
import io
import shutil
import subprocess
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

WIDTH, HEIGHT = 760, 3000


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    raise SystemExit("chromium not found: apt-get install -y chromium")


def screenshot(html: Path, png: Path, height: int = HEIGHT) -> None:
    with tempfile.TemporaryDirectory(prefix="runlift-chromium-") as profile:
        cmd = [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               "--hide-scrollbars", f"--user-data-dir={profile}", f"--screenshot={png}",
               f"--window-size={WIDTH},{height}", html.resolve().as_uri()]
        subprocess.run(cmd, check=True, capture_output=True, timeout=120)


def trim_bottom(png: Path, margin: int = 24) -> bytes:
    """Cut the empty page background below the report; returns optimised PNG bytes."""
    img = Image.open(png).convert("RGB")
    bg = img.getpixel((img.width - 1, img.height - 1))
    bottom = img.height
    px = img.load()
    while bottom > 1 and all(px[x, bottom - 1] == bg for x in range(0, img.width, 4)):
        bottom -= 1
    img = img.crop((0, 0, img.width, min(img.height, bottom + margin)))
    buf = io.BytesIO()
    img.save(buf, format="PNG", optimize=True)
    return buf.getvalue()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--week", default="2026-W38")
    ap.add_argument("--athlete", default="me")
    ap.add_argument("--db", type=Path)
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "report.png")
    args = ap.parse_args()
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
        raw = Path(tmp) / "shot.png"
        screenshot(html, raw)
        data = trim_bottom(raw)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_bytes(data)
    print(f"{args.out}: {len(data) // 1024} KiB ({report.subject})")


if __name__ == "__main__":
    main()
