"""billready's performance benchmark (issue #8): how fast, how big, against what a user would do.

Run it with one command from the repository root (not part of the test run)::

    .venv/bin/python -m bench --sizes S,M,L --out bench/results/latest.json

For each size (S: the demo export; M: 100,000 milestones and 1,000,000 charges; L: 1,000,000
milestones and 10,000,000 charges, written by ``billready synth``) it measures, each step in its
own child process so its peak memory (the whole process tree, dbt included) is its own:

* a full refresh into a fresh warehouse: ingest, ``dbt source freshness``, ``dbt build``,
  checkpoint and publish (:mod:`bench.steps`, ``refresh``), with dbt's per-model timings;
* ``billready check`` (cold, in a fresh process) and every report panel
  (:class:`billready.report.Report`), warm p50 and p95 over several runs after a warm-up;
* the peers, on the same export in the same run: a plain pandas implementation of the four
  allocation rules and the KPIs (:mod:`bench.peers`; its results must equal billready's exactly,
  :mod:`bench.compare`), and the lower bound, one DuckDB pass over every raw table;
* an incremental refresh: the same warehouse refreshed from a copy of the export in which 1% of
  the ticket and project charges changed amount, and from an export holding only changed rows.

Once per run it measures dbt's fixed cost (the same refresh of an export whose every entity file
has zero rows). It prints a table and the targets (:mod:`bench.targets`) with pass/miss and the
measured ratio, and writes everything, with the machine's description and load, as JSON.
docs/performance.md holds the latest numbers and how to read them.
"""
