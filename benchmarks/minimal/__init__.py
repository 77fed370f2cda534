"""The minimal example: ``pytest benchmarks/minimal --agent-config=benchmarks/minimal/careful.json --sprt``."""
