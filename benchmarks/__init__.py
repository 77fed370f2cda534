"""The embedded example benchmark suite.

Run it with ``pytest benchmarks --agent-config=configs/exp_042.json``.
"""
