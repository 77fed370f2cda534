"""The run machinery, free of pytest: the planned order of trials, dispatch, feeding the sequential test in planned
order, the stop, the budget, outcomes, verdicts and the gate."""
