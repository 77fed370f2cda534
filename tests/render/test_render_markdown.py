"""The Markdown report: GFM tables, the verdict headline, escaping, and the 1 MiB limit."""

from __future__ import annotations

import re

from pytest_agentopt.report.render.html import render_html
from pytest_agentopt.report.render.markdown import GITHUB_STEP_SUMMARY_LIMIT, escape, render_markdown
from tests.render import gfm
from tests.render.samples import INJECTION, ab_summary, full_report, pareto, pareto_point


def table_with_header(markdown: str, first_header: str, second_header: str | None = None) -> list[list[str]]:
    matching = [
        table for table in gfm.tables(markdown) if table[0][0] == first_header and second_header in (None, table[0][1])
    ]
    assert len(matching) == 1, [table[0] for table in gfm.tables(markdown)]
    return matching[0]


def test_it_renders_every_table_as_a_gfm_pipe_table() -> None:
    markdown = render_markdown(full_report())
    found = gfm.tables(markdown)
    first_headers = [table[0][0] for table in found]
    assert first_headers == ["setting", "arm", "experiment", "task", "arm", "task", "category", "task", "error type"]
    for line in markdown.splitlines():
        if gfm.is_delimiter_row(line):
            assert re.fullmatch(r"\| (-{3}:?)( \| -{3}:?)* \|", line), line


def test_it_opens_with_the_verdict_and_the_gate() -> None:
    markdown = render_markdown(full_report())
    lines = markdown.splitlines()
    assert lines[0] == r"# agentopt run 20261123-155501-exp\_042-3fa2"
    verdict = next(line for line in lines if line.startswith("**Verdict"))
    assert verdict.startswith("**Verdict: BETTER** (decided by the sequential test): test is better than control")
    assert "Gate: **passed**" in lines
    failed = render_markdown({"summary": ab_summary(verdict="worse", gate_passed=False)})
    assert "Gate: **FAILED**: regression proven: test is worse" in failed.splitlines()


def test_it_shows_the_per_arm_figures_and_the_paired_comparison() -> None:
    markdown = render_markdown(full_report())
    arms = table_with_header(markdown, "arm", "experiment")
    assert [gfm.unescape(cell) for cell in arms[1][:5]] == [
        "control",
        "exp_041",
        "gpt-4.1-mini",
        "19/49",
        "38.8% [28.8%, 48.8%]",
    ]
    assert gfm.unescape(arms[2][7]) == "$0.0025"
    # After a sequential stop no fixed-n McNemar p-value is shown: it is not valid there.
    assert "McNemar" not in markdown
    assert r"- **effect (test - control)**: +0.225 \[-0.036, +0.425\]" in markdown
    assert (
        r"LLR better +2.99 (reached the upper bound), worse -2.27 (reached the lower bound); bounds \[-2.25, +2.89\]"
        r"; 49 pairs used" in markdown
    )
    # The verdict and an effect interval that includes 0: one line says why they do not contradict each other.
    assert "- **why**: the interval includes 0 although the test decided" in markdown


def test_a_fixed_sample_run_shows_its_one_sided_mcnemar_test() -> None:
    summary = ab_summary()
    summary.update(
        {
            "decided_by": "fixed",
            "llr": None,
            "bounds": None,
            "tests": None,
            "mcnemar_p": 0.0096,
            "mcnemar_direction": "better",
        }
    )
    markdown = render_markdown({"summary": summary})
    assert "- **McNemar test**: one-sided exact McNemar p = 0.0096 (test better)" in markdown
    assert "- **sequential test**" not in markdown


def test_it_lists_the_pareto_table_with_the_kpi_answer() -> None:
    markdown = render_markdown(full_report())
    rows = table_with_header(markdown, "experiment")
    by_id = {gfm.unescape(row[0]): [gfm.unescape(cell) for cell in row] for row in rows[1:]}
    assert set(by_id) == {"cheap", "exp_041", "exp_042", "big"}
    assert by_id["exp_042"][4:] == ["62.0% [52.0%, 72.0%]", "$0.0025 [$0.0020, $0.0030]", "yes", "5%", "yes"]
    assert by_id["exp_041"][6] == "no"
    assert "reaches at least 80% of big's success rate" in markdown
    assert "<svg" not in markdown  # no images in the Markdown: the table carries the figures


def test_it_escapes_user_text_so_it_cannot_break_a_table_or_inject_markup() -> None:
    report = full_report()
    report["pareto"] = pareto([pareto_point(INJECTION, 0.5, 0.001, on_front=True)])
    summary = ab_summary()
    summary["verdict_reason"] = INJECTION
    report["summary"] = summary
    markdown = render_markdown(report)
    rows = table_with_header(markdown, "experiment")
    assert len(rows) == 2  # the pipe inside the id did not add a column or a row
    assert gfm.unescape(rows[1][0]) == " ".join(INJECTION.split())
    own_tags = re.compile(r"</?(details|summary|strong|sub)>")
    assert not re.search(r"(?<!\\)<", own_tags.sub("", markdown))  # every "<" from the data is escaped
    assert r"\<script\>" in markdown
    assert not re.search(r"(?<!\\)\]\(", markdown)  # no link: its brackets are escaped


def test_escape_turns_every_markdown_special_character_into_a_literal() -> None:
    assert escape("a|b") == r"a\|b"
    assert escape("x_y*z`w") == r"x\_y\*z\`w"
    assert escape("$1 and $2") == r"\$1 and \$2"  # GitHub would otherwise typeset "1 and " as maths
    assert escape("line one\nline two") == "line one line two"
    assert escape(r"back\slash") == r"back\\slash"


def test_it_keeps_secondary_sections_in_collapsed_details() -> None:
    markdown = render_markdown(full_report())
    assert "<details><summary><strong>Per task</strong></summary>" in markdown
    assert markdown.count("<details>") == markdown.count("</details>")
    # GitHub renders a table inside <details> only after a blank line
    assert re.search(r"</summary>\n\n\| task \|", markdown)


def test_it_cuts_long_tables_to_stay_under_the_limit_and_says_so() -> None:
    report = full_report()
    long_id = "x" * 600  # 2,000 rows of these are over 1 MiB
    report["pareto"] = pareto([pareto_point(f"{long_id}{i:05d}", 0.5, 0.001, on_front=False) for i in range(5_000)])
    markdown = render_markdown(report)
    assert len(markdown.encode()) < GITHUB_STEP_SUMMARY_LIMIT
    rows = table_with_header(markdown, "experiment")
    assert 5 <= len(rows) - 1 < 2_000
    assert f"_Showing the first {len(rows) - 1:,} of 5,000 rows" in markdown
    gfm.tables(markdown)  # still well-formed after the cut


def test_it_honours_a_small_byte_budget() -> None:
    markdown = render_markdown(full_report(), max_bytes=3000)
    assert len(markdown.encode()) <= 3000
    assert "cut here to stay under the size limit" in markdown
    assert markdown.startswith("# agentopt run")


def test_it_renders_whatever_is_present() -> None:
    assert render_markdown({}).startswith("# agentopt report")
    only_pareto = render_markdown({"title": "front", "pareto": pareto()})
    assert only_pareto.startswith("# front\n")
    assert "Verdict" not in only_pareto
    assert len(gfm.tables(only_pareto)) == 1


def test_a_target_run_reports_the_trials_its_test_used() -> None:
    summary = ab_summary(verdict="below_target")
    del summary["arms"]["control"]
    summary.update(
        {
            "mode": "single",
            "llr": {"target": -2.44},
            "pairs": None,
            "pairs_used": None,
            "trials_used": 21,
            "mcnemar_p": None,
        }
    )
    summary.update({"effect": None, "cost_ratio": None, "config_diff": [], "tests": {"target": "accepted_h0"}})
    markdown = render_markdown({"summary": summary})
    assert (
        r"- **sequential test**: LLR target -2.44 (reached the lower bound); bounds \[-2.25, +2.89\]; 21 trials used"
        in markdown
    )
    assert "**Verdict: BELOW TARGET**" in markdown
    assert "What changed" not in markdown


def test_a_task_cost_no_trial_priced_reads_unknown_not_zero() -> None:
    summary = ab_summary()
    summary["tasks"][0]["arms"]["test"]["cost_usd"] = None  # no trial of this task and arm had a known cost
    rows = table_with_header(render_markdown({"summary": summary}), "task", "category")
    cells = [gfm.unescape(cell) for cell in rows[1]]
    assert cells == ["gpu_race", "discriminative", "1/5", "20%", "$0.0100", "4/5", "80%", "unknown"]
    html = render_html({"summary": summary})
    row = re.search(r"<tr><td[^>]*>gpu_race</td>.*?</tr>", html)
    assert row is not None
    assert re.findall(r"<td[^>]*>(.*?)</td>", row.group(0))[2:] == cells[2:]


def test_a_sum_and_a_mean_of_cost_are_named_as_such() -> None:
    markdown = render_markdown(full_report())
    tasks = table_with_header(markdown, "task", "category")
    assert [gfm.unescape(cell) for cell in tasks[0][2:]] == [
        "control solved",
        "control rate",
        "control est. total $",  # a sum over the task's trials
        "test solved",
        "test rate",
        "test est. total $",
    ]
    front = table_with_header(markdown, "experiment", "config")
    assert gfm.unescape(front[0][5]) == "est. mean $ per trial [95%]"  # a mean over a config's trials


def test_the_guideline_table_says_what_else_changed_as_agentopt_guidelines_does() -> None:
    from pytest_agentopt.cli.guidelines_cmd import _cells

    row = {
        "guideline": "Check coupon limits first",
        "change": "added",
        "parent": "exp_041",
        "child": "exp_045",
        "paired": True,
        "pairs": 30,
        "effect": {"estimate": 0.2, "lower": 0.05, "upper": 0.35, "method": "paired"},
        "cost_ratio": None,
        "runs": ["r1"],
        "changed_with": ["Be brief"],
        "other_changes": ['model_id: "gpt-4.1-mini" -> "gpt-5"'],
    }
    markdown = render_markdown({"guidelines": [row]})
    table = table_with_header(markdown, "guideline")
    assert gfm.unescape(table[0][-1]) == "also changed"
    also = gfm.unescape(table[1][-1])
    assert (
        also == 'guideline "Be brief"; model_id: "gpt-4.1-mini" -> "gpt-5"'
    )  # the effect is not the guideline's alone
    assert _cells(row)[-1] == also  # the same words as the command
    assert "it is not the guideline's effect alone" in markdown
    alone = render_markdown({"guidelines": [{**row, "changed_with": [], "other_changes": []}]})
    assert gfm.unescape(table_with_header(alone, "guideline")[1][-1]) == "-"
    unknown = render_markdown({"guidelines": [{**row, "changed_with": [], "other_changes": None}]})
    assert gfm.unescape(table_with_header(unknown, "guideline")[1][-1]) == "other settings unknown"


def test_the_samples_are_summaries_a_run_writes() -> None:
    from pytest_agentopt.storage.summary_schema import RunSummary
    from pytest_agentopt.storage.typed_json import shape_problem

    assert shape_problem(ab_summary(), RunSummary) is None
    assert shape_problem(full_report()["summary"], RunSummary) is None


def test_a_summary_without_the_documented_shape_shows_no_figure_and_names_the_field() -> None:
    summary: dict[str, object] = dict(ab_summary())
    summary["pairs"] = {"both": "15"}  # damaged: a count that is not a number, the other counts gone
    markdown = render_markdown({"summary": summary, "notes": ["a note of the report"]})  # type: ignore[typeddict-item]
    assert "Verdict" not in markdown
    assert "exp\\_042" not in markdown
    notes = markdown[markdown.index("## Notes") :]
    assert "- warning: the report's summary: field 'pairs.control\\_only': missing:" in notes
    assert "its figures are not shown" in notes
    assert "- a note of the report" in notes


def test_no_summary_is_no_verdict_and_no_warning() -> None:
    empty: dict[str, object] = {}
    for markdown in (render_markdown({"summary": None}), render_markdown({"summary": empty})):  # type: ignore[typeddict-item]
        assert "Verdict" not in markdown
        assert "warning" not in markdown
