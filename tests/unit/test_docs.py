"""The documentation lists what the code offers."""

from __future__ import annotations

from pathlib import Path

from pytest_agentopt.cli.main import COMMANDS
from pytest_agentopt.shell.options import SPECS

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


def test_the_completion_order_figures_are_attributed_to_the_test_they_were_measured_on() -> None:
    # alpha 0.15 at 8 workers is the one-config test's figure; the paired test's are the power loss and the
    # errors toward the slower arm.
    for path in (README, DOCS / "statistics.md"):
        text = " ".join(path.read_text(encoding="utf-8").split())
        assert "beta 0.104 -> 0.114" in text, path
        assert "false `better` 0.075" in text, path
        assert "false `worse` 0.033" in text, path
    readme = " ".join(README.read_text(encoding="utf-8").split())
    assert "a one-config test against a target reaches alpha 0.15 at 8 workers" in readme


def test_the_two_sided_yardstick_is_stated_for_every_test_and_its_alternatives_named() -> None:
    text = " ".join((DOCS / "statistics.md").read_text(encoding="utf-8").split())
    assert "about 122.4 pairs for any two-sided test" in text
    assert "123.1 is the optimum among tests capped at 300 pairs" in text
    assert "least favourable trinomials" in text


def test_the_gates_guarantee_is_stated_for_the_suite_and_the_population_reading_for_what_it_is() -> None:
    from scripts.validate_gate import POPULATION_FLOOR

    statistics = " ".join((DOCS / "statistics.md").read_text(encoding="utf-8").split())
    assert "**On the suite it runs, always.**" in statistics
    assert "**In a population of tasks, not at 0.90.**" in statistics
    assert "`python scripts/population_power.py`" in statistics
    validation = " ".join((DOCS / "validation.md").read_text(encoding="utf-8").split())
    assert f"fails the gate with probability >= {POPULATION_FLOOR}" in validation
    assert "FAIL:" not in validation.split("## The machinery")[0]
