"""Benchmark how fast `recovery-monitor` starts: whole-process wall time beside a bare interpreter.

Commands, each run as a new process (stdout and stderr discarded; a failing command stops the bench):

- ``python3 -c pass``: the bare interpreter, the floor every command pays;
- ``recovery-monitor --help``: building the parser (every subcommand's help);
- ``recovery-monitor hrv FILE`` (table) and ``hrv FILE --json`` on a 5-minute reading (``pyhrv__nsrdb_series_1.txt``
  of ``<repo>/../shared/data/rr``, or ``--rr FILE``);
- ``recovery-monitor analyze --store sqlite:///<tmp>/empty.sqlite`` on an empty store.

The console script is the installed ``recovery-monitor`` when on PATH, else ``python3 -m monitor``. The runs of the
commands alternate, so a busy machine affects all alike; each figure is the median of ``--repeat`` runs (default 7)
after one warm-up run. Targets (issue 12): ``--help`` within 0.3 s of the bare interpreter, ``hrv`` on a 5-minute
reading under 0.6 s. The last line printed is one JSON object. Find what is slow with ``python3 -X importtime``.

    python bench/cli.py [--repeat 7] [--rr FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RR_FILE = Path(__file__).resolve().parents[2] / "shared" / "data" / "rr" / "pyhrv__nsrdb_series_1.txt"
HELP_OVER_BARE_TARGET_S = 0.3
HRV_TARGET_S = 0.6


def wall_s(command: list[str]) -> float:
    """Wall-clock seconds of one run of ``command`` as a new process; raises if it fails."""
    started = time.perf_counter()
    subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=True)
    return time.perf_counter() - started


def medians_s(commands: dict[str, list[str]], repeat: int) -> dict[str, float]:
    """Median wall time of each command over ``repeat`` alternating rounds, after one warm-up round."""
    runs: dict[str, list[float]] = {name: [] for name in commands}
    for round_ in range(repeat + 1):
        for name, command in commands.items():
            elapsed = wall_s(command)
            if round_:
                runs[name].append(elapsed)
    return {name: round(statistics.median(times), 3) for name, times in runs.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=7, help="runs per command (median; default 7)")
    parser.add_argument("--rr", type=Path, default=RR_FILE, help="the 5-minute RR reading for `hrv`")
    args = parser.parse_args()
    if not args.rr.is_file():
        sys.exit(f"bench/cli.py: {args.rr}: no such file (give a 5-minute RR reading with --rr)")
    script = shutil.which("recovery-monitor")
    cli = [script] if script else [sys.executable, "-m", "monitor"]
    with tempfile.TemporaryDirectory(prefix="bench-cli-") as scratch:
        store = f"sqlite:///{Path(scratch) / 'empty.sqlite'}"
        commands = {
            "bare_python": [sys.executable, "-c", "pass"],
            "help": [*cli, "--help"],
            "hrv": [*cli, "hrv", str(args.rr)],
            "hrv_json": [*cli, "hrv", str(args.rr), "--json"],
            "analyze_empty_store": [*cli, "analyze", "--store", store],
        }
        try:
            wall = medians_s(commands, args.repeat)
        except subprocess.CalledProcessError as exc:
            sys.exit(f"bench/cli.py: {' '.join(exc.cmd)} failed: {exc.stderr.decode(errors='replace').strip()}")
    over_bare = {name: round(s - wall["bare_python"], 3) for name, s in wall.items() if name != "bare_python"}
    for name in wall:
        print(f"{name:<20} {wall[name]:.3f} s" + (f"  (+{over_bare[name]:.3f} s)" if name in over_bare else ""))
    result = {
        "cli": " ".join(cli),
        "python": sys.version.split()[0],
        "cpus": os.cpu_count(),
        "repeat": args.repeat,
        "rr_file": args.rr.name,
        "wall_s": wall,
        "over_bare_python_s": over_bare,
        "help_within_target": over_bare["help"] <= HELP_OVER_BARE_TARGET_S,
        "hrv_within_target": wall["hrv"] < HRV_TARGET_S,
        "targets": {"help_over_bare_python_s": HELP_OVER_BARE_TARGET_S, "hrv_s": HRV_TARGET_S},
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
