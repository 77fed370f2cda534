"""The store example (``pytest benchmarks``) and the minimal example (``pytest benchmarks/minimal``) are separate
experiments with their own configs: the store example's run leaves the minimal one out. pytest still collects it
when its folder or file is named on the command line."""

collect_ignore = ["minimal"]
