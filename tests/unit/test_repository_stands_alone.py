"""The repository stands alone: no text in it points at an issue tracker, a note kept elsewhere or a path outside it.

A maintainer who clones the repository has only the repository. A comment that cites a tracker's number or a
note kept elsewhere, or a link to a file beside the checkout, explains nothing to them: the figure, the reason or
a file in the repository must be written instead (``docs/design.md`` holds the architecture and its reasons).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# What the repository is made of; caches and run directories are skipped by name below, virtual environments
# (a folder with a pyvenv.cfg) wherever they are.
SCANNED_FOLDERS = ("pytest_agentopt", "scripts", "tests", "docs", "benchmarks", "configs", ".ci")
SCANNED_FILES = ("README.md", "CHANGELOG.md", "pyproject.toml", "conftest.py")
TEXT_SUFFIXES = frozenset({".py", ".md", ".json", ".toml", ".txt", ".cfg", ".ini", ".yml", ".yaml", ".sh", ""})
SKIPPED_PARTS = frozenset({"__pycache__", ".agentopt", ".pytest_cache", ".mypy_cache", ".ruff_cache"})

FORBIDDEN = {
    "an issue or pull request number": re.compile(
        r"\bissues?\s*#?\d+|\bpull request\s*#?\d+|\bPR\s*#\d+|\(#\d+\)|/(?:issues|pull)/\d+", re.IGNORECASE
    ),
    "a design document outside the repository": re.compile(
        r"\b(?-i:DESIGN)\.md|\bdesign[ ]notes?\b|\bthe[ ]brief\b", re.IGNORECASE
    ),
    "a path outside the repository": re.compile(r"\.\./shared\b|(?<![\w.])/(?:work|home|Users|root)/"),
}
MARKDOWN_LINK = re.compile(r"\]\(([^)\s]+)\)")


def violations(text: str) -> list[str]:
    """What ``text`` points at outside the repository, one ``"<what>: <match>"`` per occurrence."""
    return [f"{what}: {match.group(0)!r}" for what, pattern in FORBIDDEN.items() for match in pattern.finditer(text)]


def broken_links(markdown: str, document: Path, root: Path) -> list[str]:
    """Relative Markdown link targets of ``document`` that leave ``root`` or name no file in it."""
    broken: list[str] = []
    for match in MARKDOWN_LINK.finditer(markdown):
        target = match.group(1)
        if re.match(r"[a-z][a-z0-9+.-]*:", target) or target.startswith("#"):
            continue  # a URL or an anchor in the same document
        resolved = (document.parent / target.split("#", 1)[0]).resolve()
        if not resolved.is_relative_to(root) or not resolved.exists():
            broken.append(target)
    return broken


def committed_text_files() -> list[Path]:
    files = [ROOT / name for name in SCANNED_FILES]
    for folder in SCANNED_FOLDERS:
        # A virtual environment made inside the checkout (CI makes .ci/venv) is not the repository's text.
        environments = [marker.parent for marker in (ROOT / folder).rglob("pyvenv.cfg")]
        files.extend(
            path
            for path in sorted((ROOT / folder).rglob("*"))
            if path.is_file()
            and path.suffix in TEXT_SUFFIXES
            and not SKIPPED_PARTS.intersection(path.relative_to(ROOT).parts)
            and not any(path.is_relative_to(environment) for environment in environments)
        )
    return [path for path in files if path.exists()]


def test_it_scans_the_whole_repository() -> None:
    scanned = {path.relative_to(ROOT).as_posix() for path in committed_text_files()}
    assert {"README.md", "docs/design.md", "pytest_agentopt/stats/sprt.py", "scripts/bench_analysis.py"} <= scanned
    assert "tests/unit/test_repository_stands_alone.py" in scanned  # this file too


def test_no_committed_text_points_outside_the_repository() -> None:
    found: list[str] = []
    for path in committed_text_files():
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue  # not a text file
        found.extend(f"{path.relative_to(ROOT)}: {violation}" for violation in violations(text))
    assert not found, "write the figure, the reason or a file in the repository instead:\n" + "\n".join(found)


def test_every_relative_markdown_link_names_a_file_in_the_repository() -> None:
    found: list[str] = []
    for path in committed_text_files():
        if path.suffix == ".md":
            found.extend(f"{path.relative_to(ROOT)}: {target}" for target in broken_links(path.read_text(), path, ROOT))
    assert not found, "\n".join(found)


# The examples are assembled from pieces so that this file does not contain what it looks for.
@pytest.mark.parametrize(
    "text",
    [
        "Benchmark (iss" + "ue 4, item 8: < 10 s)",
        "fixed in Iss" + "ue #12",
        "see the iss" + "ues 3 and 4",
        "CHANGELOG entry (#" + "123)",
        "https://github.com/o/r/iss" + "ues/7",
        "reproduces the DES" + "IGN.md figures",
        "as the des" + "ign notes say",
        "per the" + " brief",
        ". /wo" + "rk/venv/bin/activate",
        "see ../sha" + "red/notes",
        "cd /ho" + "me/me/checkout",
    ],
)
def test_it_flags_what_points_outside(text: str) -> None:
    assert violations(text)


@pytest.mark.parametrize(
    "text",
    [
        "the calibrated design holds at every discordance",  # the statistical design, in the repository
        "color: #1f6feb; border: #333",  # hex colours
        "trial #3 of 10",
        "python scripts/validate_sequential.py > /tmp/validation.md",
        "a path like .agentopt/runs/<run-id>/",
        "tiss" + "ue 4",  # a word that only ends in the letters (split so no scanner reads it as a reference)
        "Be brief.",
        "the architecture is in docs/design.md",
    ],
)
def test_it_leaves_legitimate_text_alone(text: str) -> None:
    assert not violations(text)


def test_it_flags_links_that_leave_the_repository_or_name_no_file(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "ledger.md").write_text("")
    document = tmp_path / "docs" / "index.md"
    markdown = (
        "[ok](ledger.md#fields) [web](https://example.org/x.md) [anchor](#top) "
        "[outside](../../elsewhere/notes.md) [missing](nothing.md)"
    )
    assert broken_links(markdown, document, tmp_path) == ["../../elsewhere/notes.md", "nothing.md"]
