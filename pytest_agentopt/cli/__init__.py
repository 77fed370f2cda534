"""The ``agentopt`` command: thin wrappers over the pure core (configs, statistics, analysis)."""
