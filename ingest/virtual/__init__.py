"""The virtual room: simulated wearables on an in-process Bumble stack, simulators, chaos and the virtual ingest run.

Reached only from the CLI's demo and `--virtual` paths (import-linter contract in pyproject.toml).
"""
