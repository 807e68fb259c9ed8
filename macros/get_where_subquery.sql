{#- Data tests on incremental models check the rows this build wrote (docs/architecture.md,
    "Incremental builds"). Two placeholders in a test's `where` config are filled in at run time
    (the refresh id is not known at parse time, and partial parsing would keep a parse-time value):
    `__written_by_this_build__` becomes `_refresh_id = '<this refresh>'` (the charge models), and
    `__this_refresh_id__` becomes the quoted refresh id (the history models, whose rows carry
    `refresh_id`). On a full build every row is this build's, so the whole table is tested; on an
    incremental one, only the rows it wrote. That is enough for row-level tests (not_null,
    accepted_values, relationships from the model) and for unique: delete+insert replaces every
    row whose key the build wrote, and an append-only history adds rows of a new refresh id, so a
    duplicate can only arise among the written rows.

    The filter applies only when billready names the refresh (var refresh_id or
    BILLREADY_REFRESH_ID: `billready refresh` builds and tests in one dbt invocation). A dbt run by
    hand, where a `dbt test` may follow the build in another invocation, tests whole tables: a
    filter on its own invocation id would match no row and pass without testing anything. Any
    other `where` behaves as dbt's own. -#}
{% macro default__get_where_subquery(relation) -%}
    {%- set where = config.get('where') or '' -%}
    {%- if '__written_by_this_build__' in where or '__this_refresh_id__' in where -%}
        {%- set refresh_id = var('refresh_id', none) or env_var('BILLREADY_REFRESH_ID', '') -%}
        {%- if refresh_id -%}
            {%- set where = where
                | replace('__written_by_this_build__', "_refresh_id = '" ~ refresh_id ~ "'")
                | replace('__this_refresh_id__', "'" ~ refresh_id ~ "'") -%}
        {%- else -%}
            {%- set where = '' -%}
        {%- endif -%}
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
