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
    filter on its own invocation id would match no row and pass without testing anything.

    The placeholder `__landed_records__` (the staging key tests: `where: "<key> in (select <key>
    from __landed_records__)"`) becomes the tested model's records that this refresh landed, when
    `billready refresh` says which loads those were (BILLREADY_LANDED_LOADS, a JSON list of load
    ids). It says so only when the published snapshot it started from was built with this very
    project: that snapshot's tests passed on every record it holds, so a duplicate key can only
    involve a key landed now, and the filter keeps every record of such a key, old or new. A
    refresh that landed nothing tests none; without BILLREADY_LANDED_LOADS (a first build, a
    changed project, a dbt run by hand) every record is tested.

    Any other `where` behaves as dbt's own. -#}
{% macro default__get_where_subquery(relation) -%}
    {%- set where = config.get('where') or '' -%}
    {%- if '__this_refresh_id__' in where -%}
        {%- set refresh_id = var('refresh_id', none) or runtime_env_var('BILLREADY_REFRESH_ID') -%}
        {%- set where = where | replace('__this_refresh_id__', "'" ~ refresh_id ~ "'") if refresh_id else '' -%}
    {%- endif -%}
    {%- if '__landed_records__' in where -%}
        {%- set landed = runtime_env_var('BILLREADY_LANDED_LOADS') -%}
        {%- set where = where | replace('__landed_records__', landed_records(relation, fromjson(landed))) if landed else '' -%}
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

{#- A subquery: the records of `relation` landed by the loads `load_ids` (their `_loaded_at` is the
    time such a load logged in raw_autotask._load_log). Load ids are uuid hex; anything else is
    refused rather than quoted. -#}
{% macro landed_records(relation, load_ids) -%}
    {%- set load_log = graph.sources.values() | selectattr('source_name', 'equalto', 'autotask') | selectattr('name', 'equalto', '_load_log') | first -%}
    {%- for load_id in load_ids -%}
        {%- if not modules.re.fullmatch('[0-9a-f]{32}', load_id) -%}
            {%- do exceptions.raise_compiler_error('BILLREADY_LANDED_LOADS: not a load id: ' ~ load_id) -%}
        {%- endif -%}
    {%- endfor -%}
    (
        select * from {{ relation }}
        where _loaded_at in (
            select loaded_at from {{ load_log.relation_name }}
            where {% if load_ids %}load_id in ('{{ load_ids | join("', '") }}'){% else %}1 = 0{% endif %}
        )
    )
{%- endmacro %}
