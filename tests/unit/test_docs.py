"""The documentation lists what the code offers."""

from __future__ import annotations

from pathlib import Path

from pytest_agentopt.cli.main import COMMANDS
from pytest_agentopt.options import SPECS

DOCS = Path(__file__).resolve().parents[2] / "docs"
README = DOCS.parent / "README.md"


def test_every_option_and_ini_key_is_documented() -> None:
    text = (DOCS / "options.md").read_text(encoding="utf-8")
    missing = [spec.flag for spec in SPECS if f"`{spec.flag}" not in text]
    assert not missing, f"docs/options.md lacks {missing}"
    missing_ini = [spec.ini for spec in SPECS if spec.flag != "--agent-resume" and f"`{spec.ini}`" not in text]
    assert not missing_ini, f"docs/options.md lacks the ini keys {missing_ini}"


def test_every_agentopt_command_is_in_the_readme() -> None:
    text = README.read_text(encoding="utf-8")
    names = sorted(module.__name__.rsplit(".", 1)[1].removesuffix("_cmd") for module in COMMANDS)
    missing = [name for name in names if f"agentopt {name}" not in text]
    assert not missing, f"README.md lacks {missing}"
