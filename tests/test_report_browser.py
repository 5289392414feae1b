"""The weekly report's HTML in a real headless Chromium at phone (390 px) and desktop (1280 px) width.

Nothing may overflow horizontally: the document is no wider than the viewport, and no element's
box reaches past either edge; every chart image loads, is never shown wider than it was drawn,
and at phone width keeps its smallest label at 9 CSS px or more. Pages: the sample's 2026-W38
(the README screenshot), 2026-W39 (a spacing error across midnight, a long run) and W38 again with
long unbreakable names planted in a rolled-back transaction.

Driver: Playwright for Python with ``executable_path`` on the system Chromium (Debian package
``chromium``, which .ci/run installs when missing); no browser download. The test skips, saying
why, only when no Chromium is found.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from pipeline.app.demo import SAMPLE_DIR, run_demo
from pipeline.config import load_config
from pipeline.report import charts
from pipeline.report.render import render_report, write_report

CHROMIUM = next((p for p in (shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome")) if p), None)
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no Chromium found (apt-get install -y chromium; "
                                                          ".ci/run installs it when missing)")

WIDTHS = (390, 1280)
LONG = "x" * 90  # no break opportunity at all

# one pass over the page: overflow, every element's box, the chart images
MEASURE = """() => {
  const vw = window.innerWidth;
  const out = {innerWidth: vw, scrollWidth: document.documentElement.scrollWidth,
               bodyScrollWidth: document.body.scrollWidth, outside: [], images: []};
  for (const el of document.body.querySelectorAll('*')) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 && r.height === 0) continue;  // not rendered (the hidden preheader)
    if (r.right > vw + 0.5 || r.left < -0.5) {
      out.outside.push({tag: el.tagName, left: r.left, right: r.right,
                        text: (el.textContent || '').trim().slice(0, 60)});
    }
  }
  for (const img of document.images) {
    out.images.push({alt: img.alt, complete: img.complete, naturalWidth: img.naturalWidth,
                     width: img.getBoundingClientRect().width});
  }
  return out;
}"""


@pytest.fixture(scope="module")
def pages(tmp_path_factory) -> dict[str, Path]:
    tmp = tmp_path_factory.mktemp("browser")
    db = tmp / "demo.duckdb"
    run_demo(db)
    config = load_config(SAMPLE_DIR / "runlift.toml")
    con = duckdb.connect(str(db))
    try:
        out = {}
        for week in ("2026-W38", "2026-W39"):
            out[week] = write_report(render_report(con, config, "me", week), tmp / week)["html"]
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute("UPDATE strength_sessions SET title = ? WHERE athlete_id = 'me' AND iso_week = '2026-W38'",
                        ["Session" + LONG])
            con.execute("UPDATE strength_sets SET exercise = ? WHERE session_id IN (SELECT session_id FROM "
                        "strength_sessions WHERE athlete_id = 'me' AND iso_week = '2026-W38')", ["squat" + LONG])
            con.execute("INSERT INTO internal.rule_flags VALUES ('me', 'program.to_failure', 'error', "
                        "DATE '2026-09-15', '2026-W38', ?, CAST('{}' AS JSON))", ["flag" + LONG])
            long_report = render_report(con, config, "me", "2026-W38")
        finally:
            con.execute("ROLLBACK")
        assert LONG in long_report.html_file
        out["long names"] = write_report(long_report, tmp / "long")["html"]
    finally:
        con.close()
    return out


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        yield b
        b.close()


def measure(browser, html: Path, width: int) -> dict:
    page = browser.new_page(viewport={"width": width, "height": 900})
    try:
        page.goto(html.as_uri(), wait_until="load")
        return page.evaluate(MEASURE)
    finally:
        page.close()


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("name", ["2026-W38", "2026-W39", "long names"])
def test_nothing_overflows(browser, pages, name, width):
    m = measure(browser, pages[name], width)
    assert m["innerWidth"] == width
    assert m["scrollWidth"] <= m["innerWidth"], m
    assert m["bodyScrollWidth"] <= m["innerWidth"], m
    assert m["outside"] == [], m["outside"][:5]
    # the charts: timeline, load, fitness, and the e1RM trend when the strength section is there
    assert len(m["images"]) >= 3
    for img in m["images"]:
        assert img["complete"] and img["naturalWidth"] == charts.WIDTH_PX, img
        assert img["width"] <= charts.TIMELINE_DISPLAY_MAX_PX + 0.5, img  # never shown larger than designed
        if width == 390:
            assert charts.label_px_at(img["width"]) >= 9.0, img


def test_cards_stack_on_a_phone(browser, pages):
    """The five cards: one row on a desktop, two rows (3 + 2) at 390 px, all inside the viewport."""
    script = """() => Array.from(document.querySelectorAll('div')).filter(d =>
        /^(strength|runs|distance|load|peak acwr)$/i.test((d.textContent || '').trim())
        && d.children.length === 0 && d.style.fontSize === '10px')
        .map(d => Math.round(d.getBoundingClientRect().top))"""
    rows = {}
    for width in WIDTHS:
        page = browser.new_page(viewport={"width": width, "height": 900})
        try:
            page.goto(pages["2026-W38"].as_uri(), wait_until="load")
            tops = page.evaluate(script)
        finally:
            page.close()
        assert len(tops) == 5
        rows[width] = len(set(tops))
    assert rows == {390: 2, 1280: 1}
