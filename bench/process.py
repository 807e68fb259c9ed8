"""Run one benchmark step in a child process and measure its wall time and peak memory.

A step is ``python -m bench.steps NAME --result FILE ...`` (:mod:`bench.steps`); it writes its
measurements as JSON to ``FILE``. While it runs, the parent samples the resident memory of the
whole process tree (the step and, e.g., the dbt processes it starts) and logs a heartbeat, so a
long step shows progress. A step's peak memory is the largest of the sampled tree total, the
step's own ``ru_maxrss`` and its largest child's ``ru_maxrss`` (an upper bound: on Linux a child's
``ru_maxrss`` starts from its parent's resident size at exec). Sampling every 0.2 s can miss a
shorter spike of the tree total, never one of a single process.
"""
from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from bench.machine import load_average, tree_rss_bytes

logger = logging.getLogger(__name__)

REPOSITORY = Path(__file__).resolve().parents[1]
SAMPLE_SECONDS = 0.2
HEARTBEAT_SECONDS = 30.0


class StepFailed(RuntimeError):
    """A step exited with an error; the message ends with the tail of its log."""


def run_step(
    name: str,
    arguments: Sequence[str],
    *,
    log_dir: Path,
    label: str,
    env: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Run step ``name`` with ``arguments``; return its JSON result plus ``wall_s``,
    ``peak_rss_bytes`` and the load average before and after. ``label`` names it in the log."""
    log_dir.mkdir(parents=True, exist_ok=True)
    result_path = log_dir / f"{label}.json"
    log_path = log_dir / f"{label}.log"
    result_path.unlink(missing_ok=True)
    command = [sys.executable, "-m", "bench.steps", name, "--result", str(result_path), *arguments]
    environment = {**os.environ, **(env or {})}
    environment["PYTHONPATH"] = os.pathsep.join(
        part for part in (str(REPOSITORY), environment.get("PYTHONPATH", "")) if part
    )
    load_before = load_average()
    started = time.perf_counter()
    peak_tree = 0
    next_heartbeat = started + HEARTBEAT_SECONDS
    logger.info("%s: started (log %s)", label, log_path)
    with log_path.open("w") as log, subprocess.Popen(
        command, cwd=REPOSITORY, env=environment, stdout=log, stderr=subprocess.STDOUT
    ) as process:
        while process.poll() is None:
            peak_tree = max(peak_tree, tree_rss_bytes(process.pid))
            now = time.perf_counter()
            if now >= next_heartbeat:
                logger.info(
                    "%s: still running, %.0f s, peak memory so far %.2f GiB, load %s",
                    label, now - started, peak_tree / 2**30, load_average(),
                )
                next_heartbeat = now + HEARTBEAT_SECONDS
            time.sleep(SAMPLE_SECONDS)
        returncode = process.wait()
    wall = time.perf_counter() - started
    if returncode != 0 or not result_path.exists():
        tail = "".join(log_path.read_text(errors="replace").splitlines(keepends=True)[-40:])
        raise StepFailed(f"step {label} ({name}) failed with exit code {returncode}; log {log_path}:\n{tail}")
    result: dict[str, Any] = json.loads(result_path.read_text())
    rusage = result.get("rusage", {})
    result["peak_tree_sampled_bytes"] = peak_tree
    result["peak_rss_bytes"] = max(
        peak_tree, rusage.get("self_maxrss_bytes", 0), rusage.get("children_maxrss_bytes", 0)
    )
    result["wall_s"] = round(wall, 3)
    result["load_before"] = load_before
    result["load_after"] = load_average()
    logger.info("%s: done in %.1f s, peak memory %.2f GiB", label, wall, result["peak_rss_bytes"] / 2**30)
    return result
