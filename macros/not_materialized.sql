{#- `not materialized` for an import CTE that several CTEs read, on DuckDB; nothing elsewhere.

    DuckDB materializes a CTE that is read more than once: for `select * from <a wide table>` that
    copies every row before anything is filtered or joined (in bi_findings, a million
    bi_contract_milestones rows, about 1.5 GB, of which the findings need a few hundred thousand).
    Inlined, each reader scans the stored table itself, with its own filters and columns. A CTE
    that computes something stays materialized, so it is computed once. Apache Spark has no
    such hint (and inlines CTEs anyway): there this renders nothing. -#}
{% macro not_materialized() -%}
    {{ return(adapter.dispatch('not_materialized', 'billready')()) }}
{%- endmacro %}

{% macro default__not_materialized() -%}
{%- endmacro %}

{% macro duckdb__not_materialized() -%}
    not materialized
{%- endmacro %}
