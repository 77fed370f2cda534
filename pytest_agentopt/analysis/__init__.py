"""Analysis of the trial history: load trials as columns, filter them, aggregate them into plain tables.

    from pytest_agentopt.analysis import FilterChain, Last, Model, load_trials, pareto_front

    trials = load_trials(".agentopt")                      # every run under .agentopt/runs/
    recent = FilterChain(Model("gpt-5"), Last(1000)).apply(trials)
    front = pareto_front(recent)                           # plain dicts and lists, ready for JSON

Every aggregator returns plain data (dicts, lists, str, int, float, bool, None), never numpy values. See
``docs/analysis.md`` for every key and the statistics behind it.
"""

from __future__ import annotations

from pytest_agentopt.analysis.aggregate import CONFIG_COLUMNS, config_table
from pytest_agentopt.analysis.clustering import TASK_COLUMNS, cluster_tasks
from pytest_agentopt.analysis.failures import FAILURE_COLUMNS, cluster_failures, normalise_message
from pytest_agentopt.analysis.filters import (
    Experiment,
    Field,
    FieldFilter,
    Filter,
    FilterChain,
    First,
    Last,
    Model,
    Run,
    Since,
    Slice,
    TaskCode,
)
from pytest_agentopt.analysis.guidelines import GUIDELINE_COLUMNS, guideline_impact
from pytest_agentopt.analysis.history import HISTORY_COLUMNS, experiment_history
from pytest_agentopt.analysis.llr_path import candidates_llr_path, llr_path, run_llr_path
from pytest_agentopt.analysis.loading import ledger_files, load_trials, table_from_records
from pytest_agentopt.analysis.pareto import pareto_front
from pytest_agentopt.analysis.runs import ArmInfo, RunInfo, load_run, load_runs
from pytest_agentopt.analysis.table import ALL_COLUMNS, Categorical, TrialTable
from pytest_agentopt.analysis.trajectory import TRAJECTORY_COLUMNS, trajectory_metrics

__all__ = [
    "ALL_COLUMNS",
    "CONFIG_COLUMNS",
    "FAILURE_COLUMNS",
    "GUIDELINE_COLUMNS",
    "HISTORY_COLUMNS",
    "TASK_COLUMNS",
    "TRAJECTORY_COLUMNS",
    "ArmInfo",
    "Categorical",
    "Experiment",
    "Field",
    "FieldFilter",
    "Filter",
    "FilterChain",
    "First",
    "Last",
    "Model",
    "Run",
    "RunInfo",
    "Since",
    "Slice",
    "TaskCode",
    "TrialTable",
    "candidates_llr_path",
    "cluster_failures",
    "cluster_tasks",
    "config_table",
    "experiment_history",
    "guideline_impact",
    "ledger_files",
    "llr_path",
    "load_run",
    "load_runs",
    "load_trials",
    "normalise_message",
    "pareto_front",
    "run_llr_path",
    "table_from_records",
    "trajectory_metrics",
]
