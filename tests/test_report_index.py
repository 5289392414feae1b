"""index.html of the report folder and the coach's roster digest, on two athletes built from the
sample data: "me" (the whole sample) and "ana" (its runs only, so no strength: short weeks).
Expected verdicts and counts come from SQL on the views, independently of the report code."""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import date
from html.parser import HTMLParser
from pathlib import Path

import duckdb
import pytest

from pipeline import commands
from pipeline.config import Config, load_config
from pipeline.report.index import INDEX_FILE
from pipeline.report.text import verdict_of

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_data"
AS_OF = date(2026, 10, 26)
WEEKS = ["2026-W37", "2026-W38", "2026-W39"]


def two_athletes(tmp: Path, extra: str = "") -> tuple[Path, Config]:
    """A DB with athletes "me" (own email_to) and "ana" (the [report] email_to), and a coach."""
    body = (SAMPLE / "runlift.toml").read_text().replace("[athlete]", "[[athletes]]", 1)
    body = body.replace('strength_experience = "new"\n', 'strength_experience = "new"\n'
                        'email_to = ["me@example.org"]\n\n[[athletes]]\nid = "ana"\ntimezone = "Europe/Berlin"\n', 1)
    cfg = tmp / "runlift.toml"
    cfg.write_text(body + '\n[report]\nout = "reports"\nemail_to = ["team@example.org"]\n'
                   'coach_email_to = ["coach@example.org"]\n' + extra)
    config = load_config(cfg)
    db = tmp / "two.duckdb"
    commands.ingest(db, config, [SAMPLE], athlete="me", workers=1, refresh_models=False)
    commands.ingest(db, config, [SAMPLE / "runs"], athlete="ana", workers=1, refresh_models=False)
    commands.build(db, config, AS_OF)
    return db, config


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Config]:
    return two_athletes(tmp_path_factory.mktemp("index"))


@pytest.fixture(scope="module")
def folder(built: tuple[Path, Config]) -> Path:
    db, config = built
    for week in WEEKS:
        commands.write_reports(db, config, week)
    return config.report_dir


def expected(db: Path, athlete: str, week: str) -> tuple[str, int, int]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        verdict, first = con.execute("SELECT verdict, is_first_week FROM weekly_compliance "
                                     "WHERE athlete_id = ? AND iso_week = ?", [athlete, week]).fetchone()
        errors, warnings = con.execute(
            "SELECT count(*) FILTER (severity = 'error'), count(*) FILTER (severity = 'warning') FROM flags "
            "WHERE athlete_id = ? AND week = ?", [athlete, week]).fetchone()
    finally:
        con.close()
    return verdict_of(verdict, first), errors, warnings


class Page(HTMLParser):
    """The parts of a page the tests look at: table rows (cell texts), links, ids, tags."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self.links: list[str] = []
        self.ids: set[str] = set()
        self.tags: set[str] = set()
        self._cell: list[str] | None = None
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        self.tags.add(tag)
        if a.get("id"):
            self.ids.add(a["id"] or "")
        if tag == "a" and a.get("href"):
            self.links.append(a["href"] or "")
        if tag == "tr":
            self.rows.append([])
        if tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None:
            self.rows[-1].append(" ".join("".join(self._cell).split()))
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def test_index_lists_every_athletes_weeks_newest_first(built, folder: Path) -> None:
    db, _ = built
    page = Page((folder / INDEX_FILE).read_text())
    rows = [r for r in page.rows if r and re.fullmatch(r"\d{4}-W\d{2}", r[0])]
    # one table per athlete, in config order, each newest first
    assert [r[0] for r in rows] == WEEKS[::-1] * 2
    links = [link for link in page.links if link.endswith(".html")]
    assert links[:6] == [f"{a}-{w}.html" for a in ("me", "ana") for w in WEEKS[::-1]]
    for (athlete, week), row in zip([(a, w) for a in ("me", "ana") for w in WEEKS[::-1]], rows, strict=True):
        verdict, errors, warnings = expected(db, athlete, week)
        assert row == [week, verdict, str(errors), str(warnings)], (athlete, week)
        assert (folder / f"{athlete}-{week}.html").exists()
    # ana has runs but no strength: her weeks are short; the roster digests have their own list
    assert {r[1] for r in rows[3:]} == {"short"}
    assert links[6:] == [f"roster-{w}.html" for w in WEEKS[::-1]]


def test_index_is_self_contained_and_fluid(folder: Path) -> None:
    text = (folder / INDEX_FILE).read_text()
    page = Page(text)
    assert text.startswith("<!DOCTYPE html>") and 'name="viewport" content="width=device-width' in text
    assert not {"script", "link", "img", "iframe"} & page.tags
    assert not re.search(r"(src|href)=\"(https?:)?//", text)
    assert re.search(r"max-width:680px", text) and not re.search(r"[^-]width:\s*\d{3,}px", text)


def test_index_follows_the_folder_and_skips_unknown_files(built, tmp_path: Path) -> None:
    """Pages of weeks no longer in the folder vanish from the index; other files are ignored; a page
    the DB has no week for shows "no data"."""
    db, config = built
    out = tmp_path / "out"
    commands.write_reports(db, config, "2026-W38", out)
    (out / "notes.html").write_text("x")
    (out / "bob-2026-W38.html").write_text("an athlete not in the config")
    (out / "me-2026-W01.html").write_text("a week the DB does not know")
    commands.write_reports(db, config, "2026-W39", out)
    (out / "me-2026-W38.html").unlink()
    commands.write_reports(db, config, "2026-W37", out)
    page = Page((out / INDEX_FILE).read_text())
    rows = [r for r in page.rows if r and re.fullmatch(r"\d{4}-W\d{2}", r[0])]
    assert [r[0] for r in rows] == ["2026-W39", "2026-W37", "2026-W01", "2026-W39", "2026-W38", "2026-W37"]
    assert rows[2] == ["2026-W01", "no data", "0", "0"]
    assert "bob-2026-W38.html" not in page.links and "notes.html" not in page.links


def test_roster_digest_files(built, folder: Path) -> None:
    db, _ = built
    html = (folder / "roster-2026-W38.html").read_text()
    page = Page(html)
    header, *rows = [r for r in page.rows if r]
    assert header == ["Athlete", "Verdict", "Err", "Warn", "Strength", "km", "ACWR"]
    con = duckdb.connect(str(db), read_only=True)
    try:
        for row, athlete in zip(rows, ("me", "ana"), strict=True):
            verdict, errors, warnings = expected(db, athlete, "2026-W38")
            done, target, km = con.execute(
                "SELECT c.strength_sessions, c.strength_target, l.run_km FROM weekly_compliance c "
                "JOIN weekly_load l USING (athlete_id, iso_week) WHERE athlete_id = ? AND iso_week = '2026-W38'",
                [athlete]).fetchone()
            peak = con.execute("SELECT max(acwr) FROM daily_load WHERE athlete_id = ? AND local_date "
                               "BETWEEN '2026-09-14' AND '2026-09-20'", [athlete]).fetchone()[0]
            assert row == [athlete, verdict, str(errors), str(warnings), f"{done}/{target}", f"{km:.1f}",
                           "–" if peak is None else f"{peak:.2f}"]
    finally:
        con.close()
    # each row links to the athlete's section; each section to the athlete's own page
    assert [link for link in page.links if link.startswith("#")] == ["#athlete-me", "#athlete-ana"]
    assert {"athlete-me", "athlete-ana"} <= page.ids
    assert {"me-2026-W38.html", "ana-2026-W38.html"} <= set(page.links)
    assert "strength.missed_sessions" in html  # ana's flag in her section
    md = (folder / "roster-2026-W38.md").read_text()
    assert "| [me](me-2026-W38.html) |" in md and "| [ana](ana-2026-W38.html) |" in md


def test_no_roster_without_coach(built, tmp_path: Path) -> None:
    db, config = built
    no_coach = config.model_copy(update={"report": config.report.model_copy(update={"coach_email_to": []})})
    commands.write_reports(db, no_coach, "2026-W38", tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "ana-2026-W38.html", "ana-2026-W38.md", INDEX_FILE, "me-2026-W38.html", "me-2026-W38.md"]


def test_plain_text_part_has_no_markdown(built, folder: Path) -> None:
    db, config = built
    [me, ana] = commands.write_reports(db, config, "2026-W38")
    for w in (me, ana):
        assert w.text.startswith(w.report.subject + "\n")
        assert "\\" not in w.text and "|" not in w.text and "**" not in w.text and "`" not in w.text
        assert max(len(line) for line in w.text.splitlines()) <= 100
    assert "2026-W38 *  build  2       0     short" in ana.text
    assert "strength.missed_sessions" in ana.text


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


@pytest.mark.skipif(CHROMIUM is None, reason="no headless Chromium on this machine (apt-get install chromium)")
@pytest.mark.parametrize("name", [INDEX_FILE, "roster-2026-W38.html"])
def test_pages_do_not_overflow_a_390px_phone(folder: Path, tmp_path: Path, name: str) -> None:
    """Headless Chromium's window is at least 500 px wide, so the page is measured in a 390 px frame."""
    shutil.copy(folder / name, tmp_path / name)
    (tmp_path / "frame.html").write_text(
        f'<!DOCTYPE html><html><body style="margin:0"><iframe id="f" src="{name}" '
        'style="width:390px;height:900px;border:0"></iframe><script>'
        "document.getElementById('f').onload = function () {"
        " var d = this.contentDocument.documentElement;"
        " document.body.setAttribute('data-fit', d.scrollWidth + '/' + this.contentWindow.innerWidth); };"
        "</script></body></html>")
    out = subprocess.run([CHROMIUM, "--headless=new", "--no-sandbox", "--disable-gpu", "--allow-file-access-from-files",
                          "--virtual-time-budget=5000", "--window-size=800,1000", "--dump-dom",
                          (tmp_path / "frame.html").as_uri()], capture_output=True, text=True, timeout=120)
    m = re.search(r'data-fit="(\d+)/(\d+)"', out.stdout)
    assert m, out.stderr[-2000:]
    assert int(m[2]) == 390 and int(m[1]) <= 390
