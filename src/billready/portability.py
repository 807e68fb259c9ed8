"""Does SQL run on Apache Spark? A static check of compiled model SQL with sqlglot.

The dbt project must build unchanged on Spark (docs/warehouses.md). The main test suite compiles
the models for DuckDB and checks each statement here; the Spark lane also checks the SQL dbt
compiled for Spark, then builds it for real. A statement is flagged when

* it does not parse as Spark SQL (sqlglot's ``spark`` dialect, errors raised);
* it calls a function Spark does not have (``data/spark_functions.txt``: ``regexp_full_match``,
  ``list``, ``strftime``, ``epoch`` ...);
* it uses DuckDB's ``SELECT * EXCLUDE/REPLACE`` (Apache Spark has neither).

Types are not checked on DuckDB-compiled SQL: ``dbt.type_string()`` rightly renders ``TEXT``
there and ``string`` on Spark. The check on Spark-compiled SQL adds them (``VARCHAR`` needs a
length on Spark; ``TEXT`` is no Spark type).
"""
from __future__ import annotations

import functools
import json
import logging
import re
from dataclasses import dataclass
from pathlib import Path

import sqlglot
from sqlglot import exp

__all__ = ["SqlProblem", "manifest_problems", "spark_functions", "spark_problems"]

logger = logging.getLogger(__name__)

_FUNCTIONS_FILE = Path(__file__).with_name("data") / "spark_functions.txt"
_CALL = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*\(")
# Type names as written (sqlglot's tree normalises them, so the check reads tokens): Spark
# requires a length on these, and does not know these at all.
_TYPES_NEEDING_LENGTH = {"varchar", "char"}
_NOT_SPARK_TYPES = {"text"}


@dataclass(frozen=True)
class SqlProblem:
    """Why a statement will not run on Spark."""

    kind: str  # "syntax", "function", "star", "type"
    detail: str

    def __str__(self) -> str:
        return f"{self.kind}: {self.detail}"


@functools.cache
def spark_functions() -> frozenset[str]:
    """Apache Spark's built-in function names (lower case)."""
    lines = _FUNCTIONS_FILE.read_text().splitlines()
    return frozenset(line.strip() for line in lines if line.strip() and not line.startswith("#"))


def _function_name(node: exp.Func) -> str | None:
    """The name Spark would be asked to call for a function node (None for operators/keywords)."""
    if isinstance(node, exp.Anonymous):
        return str(node.name).lower()
    match = _CALL.match(node.sql(dialect="spark"))
    return match.group(1).lower() if match else None


def spark_problems(sql: str, *, check_types: bool = False) -> list[SqlProblem]:
    """Everything in ``sql`` that keeps it from running on Apache Spark; empty when none is found.

    ``check_types`` also flags type names Spark rejects: use it on SQL compiled for Spark (on
    DuckDB-compiled SQL, dbt's type macros rightly render DuckDB's names).
    """
    try:
        statements = [
            s for s in sqlglot.parse(sql, read="spark", error_level=sqlglot.ErrorLevel.RAISE) if s
        ]
    except sqlglot.errors.ParseError as exc:
        first = exc.errors[0] if exc.errors else {}
        where = f" (line {first.get('line')}, column {first.get('col')})" if first else ""
        message = str(first.get("description") or exc).splitlines()[0]
        return [SqlProblem("syntax", f"does not parse as Spark SQL{where}: {message}")]
    problems: list[SqlProblem] = []
    known = spark_functions()
    for statement in statements:
        for node in statement.find_all(exp.Func):
            name = _function_name(node)
            if name and name not in known:
                problems.append(SqlProblem("function", f"{name}() is not a Spark function"))
        for star in statement.find_all(exp.Star):
            for modifier, word in (("except_", "EXCLUDE/EXCEPT"), ("replace", "REPLACE"), ("rename", "RENAME")):
                if star.args.get(modifier):
                    problems.append(SqlProblem("star", f"SELECT * {word} (...) is not Apache Spark SQL"))
    if check_types:
        problems += _type_problems(sql)
    return list(dict.fromkeys(problems))


def _type_problems(sql: str) -> list[SqlProblem]:
    """Type names Spark rejects in ``cast(x as T)``, ``try_cast(x as T)`` and ``x::T``."""
    from sqlglot.dialects.spark import Spark

    tokens = Spark().tokenize(sql)
    problems = []
    parens: list[bool] = []  # for each open parenthesis: is it a cast's?
    for index, token in enumerate(tokens):
        kind = token.token_type.name
        if kind == "L_PAREN":
            before = tokens[index - 1].text.lower() if index else ""
            parens.append(before in ("cast", "try_cast"))
        elif kind == "R_PAREN" and parens:
            parens.pop()
        elif (kind == "ALIAS" and parens and parens[-1]) or kind == "DCOLON":
            if index + 1 >= len(tokens):
                continue
            name = tokens[index + 1].text.lower()
            sized = index + 2 < len(tokens) and tokens[index + 2].token_type.name == "L_PAREN"
            if name in _TYPES_NEEDING_LENGTH and not sized:
                problems.append(SqlProblem("type", f"{name} needs a length on Spark (use string)"))
            elif name in _NOT_SPARK_TYPES:
                problems.append(SqlProblem("type", f"{name} is not a Spark type (use string)"))
    return problems


def manifest_problems(manifest: Path, *, check_types: bool = False) -> dict[str, list[SqlProblem]]:
    """:func:`spark_problems` of every compiled model and data test in a dbt ``manifest.json``.

    Keyed by node id; only nodes with problems appear. Nodes dbt did not compile (a partial
    build) are skipped.
    """
    nodes = json.loads(manifest.read_text())["nodes"].values()
    found: dict[str, list[SqlProblem]] = {}
    for node in nodes:
        if node["resource_type"] not in ("model", "test") or node.get("language", "sql") != "sql":
            continue
        sql = node.get("compiled_code")
        if not sql:
            continue
        problems = spark_problems(sql, check_types=check_types)
        if problems:
            found[node["unique_id"]] = problems
    return found
