"""Orchestration: prepare each size's export, run every step, check equal results, keep score.

Work happens under a work directory (``--workdir``, default ``$TMPDIR/billready-bench``), never in
``./warehouse``: ``project/`` (the dbt project the run measures, copied once at the start so that
concurrent edits of the working tree cannot mix into a run; every step gets it as
``$BILLREADY_PROJECT_DIR``), ``exports/`` (synthetic exports, reused by later runs with
``--reuse-exports``), ``fixed/`` (the empty export and its warehouse), ``<size>/`` (the warehouse
and the changed exports of one size, removed after the size unless ``--keep-work``) and ``logs/``
(each step's log and JSON).
"""
from __future__ import annotations

import datetime
import io
import json
import logging
import os
import shutil
import subprocess
import sys
import tarfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from billready import settings
from bench import datasets, machine
from bench.compare import ResultMismatch, assert_equal_results, differences
from bench.process import run_step
from bench.targets import evaluate

logger = logging.getLogger(__name__)

SCHEMA_VERSION = 1
INCREMENTAL_KINDS = ("changed", "delta")
FIXED_SOURCE_MILESTONES = 55
REPOSITORY = Path(__file__).resolve().parents[1]
# What dbt reads of the project (dbt_project.yml's paths); profiles.yml always comes from the
# working tree, since it holds the DuckDB settings the benchmark sets.
PROJECT_ITEMS = ("dbt_project.yml", "models", "seeds", "macros", "data_tests", "analyses")


def _git(*arguments: str) -> str:
    """A read-only git command in the repository (never takes the index lock)."""
    completed = subprocess.run(
        ["git", "--no-optional-locks", *arguments], cwd=REPOSITORY, capture_output=True, check=True
    )
    return completed.stdout.decode(errors="replace")


def snapshot_project(target: Path, source: str = "worktree") -> dict[str, Any]:
    """Copy the dbt project to ``target``: from the working tree, or from git's ``HEAD`` (read
    with ``git archive``; nothing in the repository changes). Returns what was copied, with the
    uncommitted changes of the project and of the billready package (which always runs from the
    working tree)."""
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    info: dict[str, Any] = {"source": source, "directory": str(target)}
    try:
        info["commit"] = _git("rev-parse", "HEAD").strip()
        info["worktree_changes"] = [
            line for line in _git("status", "--porcelain", "--", *PROJECT_ITEMS, "profiles.yml").splitlines() if line
        ]
        # The billready package always runs from the working tree, whatever ``source`` says.
        info["package_worktree_changes"] = [
            line for line in _git("status", "--porcelain", "--", "src/billready").splitlines() if line
        ]
    except (OSError, subprocess.CalledProcessError):
        info["commit"] = None
    present = [item for item in PROJECT_ITEMS if (REPOSITORY / item).exists()]
    if source == "HEAD":
        archive = subprocess.run(
            ["git", "--no-optional-locks", "archive", "--format=tar", "HEAD", *present],
            cwd=REPOSITORY, capture_output=True, check=True,
        ).stdout
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(target, filter="data")
    elif source == "worktree":
        for item in present:
            path = REPOSITORY / item
            if path.is_dir():
                shutil.copytree(path, target / item, ignore=shutil.ignore_patterns("target", "logs", "__pycache__"))
            else:
                shutil.copy2(path, target / item)
    else:
        raise ValueError(f"unknown project source {source!r}: worktree or HEAD")
    shutil.copy2(REPOSITORY / "profiles.yml", target / "profiles.yml")
    return info


@dataclass
class Options:
    """What to run (``python -m bench --help`` documents each)."""

    sizes: list[datasets.Size]
    out: Path
    workdir: Path
    repeats: int = 7
    warmup: int = 1
    check_repeats: int = 3
    memory_limit: str = "3GB"
    threads: int = 2
    as_of: datetime.date = settings.DEMO_AS_OF
    seed: int = 0
    skip: set[str] = field(default_factory=set)
    incremental: tuple[str, ...] = INCREMENTAL_KINDS
    project: str = "worktree"
    reuse_exports: bool = False
    keep_work: bool = False


def environment(options: Options) -> dict[str, str]:
    """The variables profiles.yml reads for DuckDB's limits, set for every step."""
    return {
        "BILLREADY_DUCKDB_MEMORY_LIMIT": options.memory_limit,
        "BILLREADY_THREADS": str(options.threads),
        "BILLREADY_DUCKDB_THREADS": str(options.threads),
    }


class Bench:
    """One benchmark run; :meth:`run` returns the results written as JSON."""

    def __init__(self, options: Options) -> None:
        self.options = options
        self.env = environment(options)
        self.logs = options.workdir / "logs"
        self.project_dir = options.workdir / "project"
        self.env[settings.PROJECT_ENV] = str(self.project_dir)
        self.results: dict[str, Any] = {}

    def _step(self, name: str, label: str, **arguments: Any) -> dict[str, Any]:
        argv = []
        for key, value in arguments.items():
            if value is not None:
                argv += [f"--{key.replace('_', '-')}", str(value)]
        return run_step(name, argv, log_dir=self.logs, label=label, env=self.env)

    def _refresh(self, label: str, export: Path, warehouse: Path) -> dict[str, Any]:
        return self._step("refresh", label, export=export, warehouse=warehouse, as_of=self.options.as_of.isoformat())

    # --------------------------------------------------------------------------------------------

    def run(self) -> dict[str, Any]:
        options = self.options
        options.workdir.mkdir(parents=True, exist_ok=True)
        project = snapshot_project(self.project_dir, options.project)
        logger.info("measuring the dbt project of the %s (commit %s) copied to %s",
                    options.project, (project.get("commit") or "?")[:10], self.project_dir)
        self.results = {
            "schema": SCHEMA_VERSION,
            "started_at": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "command": " ".join([Path(sys.executable).name, "-m", "bench", *sys.argv[1:]]),
            "machine": machine.describe(options.workdir),
            "config": {
                "memory_limit": options.memory_limit,
                "threads": options.threads,
                "duckdb_threads": options.threads,
                "environment": self.env,
                "report_repeats": options.repeats,
                "report_warmup": options.warmup,
                "check_repeats": options.check_repeats,
                "as_of": options.as_of.isoformat(),
                "seed": options.seed,
                "skip": sorted(options.skip),
                "incremental": list(options.incremental),
                "workdir": str(options.workdir),
            },
            "project": project,
            "fixed_cost": None,
            "sizes": {},
            "equal_results": {},
            "errors": [],
        }
        if "fixed" not in options.skip:
            self.results["fixed_cost"] = self._fixed_cost()
            self._save()
        for size in options.sizes:
            started = time.perf_counter()
            logger.info("=== size %s", size.describe())
            try:
                self.results["sizes"][size.name] = self._size(size)
            except ResultMismatch as exc:
                self.results["errors"].append(f"{size.name}: {exc}")
                logger.error("%s", exc)
            logger.info("=== size %s done in %.0f s", size.name, time.perf_counter() - started)
            self.results["targets"] = [target.as_dict() for target in evaluate(self.results)]
            self._save()
        self.results["finished_at"] = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
        self.results["machine"]["load_average_at_end"] = machine.load_average()
        self.results["targets"] = [target.as_dict() for target in evaluate(self.results)]
        self._save()
        return self.results

    def _save(self) -> None:
        self.options.out.parent.mkdir(parents=True, exist_ok=True)
        staged = self.options.out.with_suffix(".json.tmp")
        staged.write_text(json.dumps(self.results, indent=2, default=str) + "\n")
        os.replace(staged, self.options.out)

    def _fixed_cost(self) -> dict[str, Any]:
        """dbt's fixed cost: a refresh of an export with every entity file and no rows."""
        root = self.options.workdir / "fixed"
        if root.exists():
            shutil.rmtree(root)
        source = root / "schema-source"
        self._step("synth", "fixed-synth", out=source, milestones=FIXED_SOURCE_MILESTONES, seed=self.options.seed)
        empty = root / "empty-export"
        datasets.write_empty_export(source, empty)
        logger.info("fixed cost: refreshing the empty export %s", empty)
        result = self._refresh("fixed-refresh", empty, root / "warehouse")
        if not self.options.keep_work:
            shutil.rmtree(root / "warehouse", ignore_errors=True)
        return result

    def _export(self, size: datasets.Size) -> tuple[Path, dict[str, Any]]:
        if size.is_demo:
            directory = datasets.demo_export()
            return directory, {"source": "demo", "directory": str(directory)}
        directory = self.options.workdir / "exports" / f"{size.name}-{size.milestones}-{size.charges}-seed{self.options.seed}"
        marker = directory / ".complete"
        info: dict[str, Any] = {"source": "synth", "directory": str(directory)}
        if self.options.reuse_exports and marker.exists():
            logger.info("%s: reusing the export in %s", size.name, directory)
            info["synth"] = json.loads(marker.read_text())
        else:
            if directory.exists():
                shutil.rmtree(directory)
            synth = self._step(
                "synth", f"{size.name}-synth", out=directory, milestones=size.milestones,
                charges=size.charges, seed=self.options.seed,
            )
            marker.write_text(json.dumps(synth, default=str))
            info["synth"] = synth
        return directory, info

    def _size(self, size: datasets.Size) -> dict[str, Any]:
        options = self.options
        export, info = self._export(size)
        rows = datasets.export_rows(export)
        charges = sum(count for name, count in rows.items() if name.lower() in datasets.CHARGE_ENTITIES)
        milestones = next((count for name, count in rows.items() if name.lower() == "contractmilestones"), 0)
        info.update({"rows": rows, "milestones": milestones, "charges": charges, "bytes": datasets.export_bytes(export)})
        result: dict[str, Any] = {"is_demo": size.is_demo, "export": info}
        self.results["sizes"][size.name] = result
        root = options.workdir / size.name
        if root.exists():
            shutil.rmtree(root)
        warehouse = root / "warehouse"

        logger.info("%s: full refresh (ingest, dbt source freshness + build, publish) of %s", size.name, export)
        result["refresh"] = self._refresh(f"{size.name}-refresh", export, warehouse)
        self._save()
        logger.info("%s: check and report panels", size.name)
        result["serve"] = self._step(
            "serve", f"{size.name}-serve", warehouse=warehouse, repeats=options.repeats,
            warmup=options.warmup, check_repeats=options.check_repeats,
        )
        self._save()
        if "pandas" not in options.skip:
            logger.info("%s: pandas peer", size.name)
            result["pandas"] = self._step("pandas", f"{size.name}-pandas", export=export)
            found = differences(result["serve"]["figures"], result["pandas"]["figures"])
            result["pandas"]["equal"] = not found
            result["pandas"]["differences"] = found
            self.results["equal_results"][size.name] = not found
            self._save()
            assert_equal_results(result["serve"]["figures"], result["pandas"]["figures"])
            logger.info("%s: pandas peer's figures equal billready's", size.name)
        if "onepass" not in options.skip:
            logger.info("%s: one-pass lower bound", size.name)
            result["onepass"] = self._step(
                "onepass", f"{size.name}-onepass", export=export,
                memory_limit=options.memory_limit, threads=options.threads,
            )
        if "incremental" not in options.skip and options.incremental:
            result["incremental"] = self._incremental(size, export, warehouse, root, result)
        if not options.keep_work:
            shutil.rmtree(root, ignore_errors=True)
        return result

    def _incremental(
        self, size: datasets.Size, export: Path, warehouse: Path, root: Path, result: dict[str, Any]
    ) -> dict[str, Any]:
        """Refresh the same warehouse from the changed full export, then from the delta export;
        each must show the changed charge total."""
        logger.info("%s: writing the changed exports (1%% of ticket and project charges)", size.name)
        changes = self._step(
            "changes", f"{size.name}-changes", source=export, changed=root / "changed", delta=root / "delta"
        )
        incremental: dict[str, Any] = {"changes": changes}
        full = result["refresh"]["total_s"]
        expected = changes["charge_total_base"]
        for kind in self.options.incremental:
            logger.info("%s: incremental refresh from the %s export", size.name, kind)
            run = self._refresh(f"{size.name}-refresh-{kind}", root / kind, warehouse)
            expected = round(expected + changes["difference"][kind], 2)
            matches = abs(run["charge_total"] - expected) < 0.005
            incremental[kind] = {
                "refresh": run,
                "expected_charge_total": expected,
                "charge_total_matches": matches,
                "ratio_to_full": round(run["total_s"] / full, 3) if full else None,
            }
            if not matches:
                self.results["errors"].append(
                    f"{size.name}: after the {kind} refresh bi_charges totals {run['charge_total']}, expected {expected}"
                )
            self._save()
        return incremental
