{#- Data tests on incremental models check the rows this build wrote (docs/architecture.md,
    "Incremental builds"). The placeholder `__this_refresh_id__` in a test's `where` config becomes
    the quoted refresh id at run time (it is not known at parse time, and partial parsing would
    keep a parse-time value): `where: _refresh_id = __this_refresh_id__` on the charge models,
    `where: refresh_id = __this_refresh_id__` on the history. On a full build every row is this
    build's, so the whole table is tested; on an incremental one, only the rows it wrote. That is
    enough for row-level tests (not_null, accepted_values, relationships from the model) and for
    unique: delete+insert replaces every row whose key the build wrote, and an append-only history
    adds rows of a new refresh id, so a duplicate can only arise among the written rows.

    The filter applies only when billready names the refresh (var refresh_id or
    BILLREADY_REFRESH_ID: `billready refresh` builds and tests in one dbt invocation). A dbt run by
    hand, where a `dbt test` may follow the build in another invocation, tests whole tables: a
    filter on its own invocation id would match no row and pass without testing anything. Any
    other `where` behaves as dbt's own. -#}
{% macro default__get_where_subquery(relation) -%}
    {%- set where = config.get('where') or '' -%}
    {%- if '__this_refresh_id__' in where -%}
        {%- set refresh_id = var('refresh_id', none) or env_var('BILLREADY_REFRESH_ID', '') -%}
        {%- set where = where | replace('__this_refresh_id__', "'" ~ refresh_id ~ "'") if refresh_id else '' -%}
    {%- endif -%}
    {%- if where -%}
        {%- set filtered -%}
            (select * from {{ relation }} where {{ where }}) dbt_subquery
        {%- endset -%}
        {%- do return(filtered) -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}
