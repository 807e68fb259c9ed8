"""The dbt project stays portable to Apache Spark: a fast static check of the compiled SQL.

The Spark lane (tests/spark, `make test-spark`) builds the project on Spark for real; this check
runs in the main lane on the DuckDB build, so a model that uses DuckDB-only syntax or functions
fails here first.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from billready import settings
from billready.portability import manifest_problems, spark_functions, spark_problems


def test_compiled_models_and_data_tests_are_spark_sql(demo_warehouse: Path) -> None:
    manifest = settings.dbt_target_dir(demo_warehouse) / "manifest.json"
    problems = manifest_problems(manifest)
    assert problems == {}, "\n".join(
        f"{node}: {'; '.join(map(str, found))}" for node, found in problems.items()
    )


DUCKDB_ONLY = {
    "list aggregate": "select list(rule_code order by rule_code) from findings",
    "regexp_full_match": "select regexp_full_match(status, '[0-9]+') from t",
    "strftime": "select strftime(due_date, '%Y-%m') from t",
    "epoch": "select epoch(loaded_at) from t",
    "list_transform lambda": "select list_transform(xs, x -> x + 1) from t",
    "star exclude": "select * exclude (amount) from t",
    "star replace": "select * replace (amount * 2 as amount) from t",
    "integer division": "select amount // 100 from t",
    "struct literal": "select {'a': 1} as s",
}


@pytest.mark.parametrize("sql", list(DUCKDB_ONLY.values()), ids=list(DUCKDB_ONLY))
def test_duckdb_only_sql_is_flagged(sql: str) -> None:
    assert spark_problems(sql), sql


def test_portable_sql_passes() -> None:
    sql = """
        with x as (select id, cast(amount as decimal(28, 6)) as amount, cast(id as string) as t from s)
        select
            concat('project-', t) as charge_id,
            coalesce(amount, 0) > 0 as has_amount,
            row_number() over (partition by id > 0 order by amount desc, id) as rank,
            count(distinct id), lower(trim(t)), datediff(current_date, cast('2026-01-01' as date))
        from x left join y on x.id = y.id
        where x.amount is not null
        group by 1, 2, 3, 5, 6
        having count(*) > 1
    """
    assert spark_problems(sql, check_types=True) == []


def test_types_spark_rejects_are_flagged_on_spark_sql() -> None:
    problems = spark_problems("select cast(a as varchar), b::text, cast(c as varchar(10)) from t", check_types=True)
    assert [p.kind for p in problems] == ["type", "type"]
    assert spark_problems("select a as text from t", check_types=True) == []  # an alias, not a type


def test_spark_function_list_is_loaded() -> None:
    functions = spark_functions()
    assert {"coalesce", "concat", "datediff", "row_number", "date_add", "lower"} <= functions
    assert not {"list", "strftime", "regexp_full_match", "epoch"} & functions
