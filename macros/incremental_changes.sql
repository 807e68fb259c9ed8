{#- Change detection for the incremental models (docs/architecture.md, "Incremental builds").

    A landing stamps every record it inserts or changes with its time (`_loaded_at`) and every
    record it marks deleted with the same time (`_deleted_at`), and logs that time with a load id in
    `raw_autotask._load_log`; records it did not change keep theirs. An incremental model keeps, in
    its state table `<model>__loads`, the load ids it has processed (the whole `_load_log` at its
    last successful build) and a checksum of its logic. A raw record changed since that build when
    its `_loaded_at` or `_deleted_at` is the time of a load not in the state (clock-proof: a landing
    stamped earlier than an older one is still new), or is later than every processed load (a
    landing that logged nothing); every record counts as changed when the state is missing or its
    checksum differs (the model's SQL or its parents' changed), which recomputes every row.

    The state is written by the model's own post-hook, so it moves only when the model was built;
    a failed refresh is never published, so the next build starts from the last published state.
    Only DuckDB builds incrementally (billready_incremental_enabled); elsewhere the models are
    tables and none of these macros run. -#}

{% macro billready_incremental_enabled() -%}
    {{ return(target.type == 'duckdb') }}
{%- endmacro %}

{#- The state table of the model being built: <schema>.<model>__loads. -#}
{% macro incremental_state_relation() -%}
    {{ return(api.Relation.create(database=this.database, schema=this.schema, identifier=this.identifier ~ '__loads')) }}
{%- endmacro %}

{#- md5 of the model's SQL and its parents' SQL: a change to either recomputes every row. -#}
{% macro incremental_logic_checksum() -%}
    {%- set parts = [model.raw_code] -%}
    {%- for node_id in model.depends_on.nodes | sort -%}
        {%- set node = graph.nodes.get(node_id) -%}
        {%- if node is not none -%}
            {%- do parts.append(node_id ~ '\n' ~ node.raw_code) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(local_md5(parts | join('\n---\n'))) }}
{%- endmacro %}

{#- A CTE body: one row (watermark, processed_loads) from the state, for the current checksum.
    processed_loads = 0 (no state, another checksum) makes every record count as changed. -#}
{% macro incremental_state_select() -%}
    {%- set state = incremental_state_relation() -%}
    {%- if adapter.get_relation(database=state.database, schema=state.schema, identifier=state.identifier) is none -%}
    select cast(null as {{ dbt.type_timestamp() }}) as watermark, 0 as processed_loads
    {%- else -%}
    select max(loaded_at) as watermark, count(*) as processed_loads
    from {{ state }}
    where logic_checksum = '{{ incremental_logic_checksum() }}'
    {%- endif -%}
{%- endmacro %}

{#- A CTE body: the load times not processed yet (their load id is not in the state). -#}
{% macro incremental_new_loads_select() -%}
    {%- set state = incremental_state_relation() -%}
    select distinct loaded_at
    from {{ source('autotask', '_load_log') }} as load_log
    {%- if adapter.get_relation(database=state.database, schema=state.schema, identifier=state.identifier) is not none %}
    where not exists (
        select 1 from {{ state }} as processed
        where processed.load_id = load_log.load_id
            and processed.logic_checksum = '{{ incremental_logic_checksum() }}'
    )
    {%- endif -%}
{%- endmacro %}

{#- A predicate on raw record `alias`: changed (landed or marked deleted) since the state. Needs
    the CTEs `incremental_state` (incremental_state_select) and `incremental_new_loads`
    (incremental_new_loads_select) in scope. With `deleted_only`, only records marked deleted. -#}
{% macro incremental_changed(alias, deleted_only=false) -%}
    {%- set stamps = [alias ~ '._deleted_at'] if deleted_only else [alias ~ '._loaded_at', alias ~ '._deleted_at'] -%}
    (
        (select processed_loads from incremental_state) = 0
        {%- for stamp in stamps %}
        or {{ stamp }} > (select watermark from incremental_state)
        or {{ stamp }} in (select loaded_at from incremental_new_loads)
        {%- endfor %}
    ){% if deleted_only %} and {{ alias }}._deleted_at is not null{% endif %}
{%- endmacro %}

{#- Post-hooks: record what this build processed (every load in _load_log, with the checksum).
    Two statements, each its own hook. -#}
{% macro incremental_record_state(step) -%}
    {%- set state = incremental_state_relation() -%}
    {%- if step == 'drop' -%}
    drop table if exists {{ state }}
    {%- else -%}
    create table {{ state }} as
    select distinct
        load_id,
        loaded_at,
        cast('{{ incremental_logic_checksum() }}' as {{ dbt.type_string() }}) as logic_checksum
    from {{ source('autotask', '_load_log') }}
    {%- endif -%}
{%- endmacro %}

{#- An incremental model built on another one (bi_charges on int_charges__resolved) finds the
    upstream rows written since its own last build by their `_refresh_id`: its state table
    `<model>__upstream` holds the refresh ids the upstream table held when the model was last built
    (post-hook incremental_record_upstream). Robust to a build that ran the upstream model alone:
    its rows carry a refresh id the state does not hold. -#}
{% macro incremental_upstream_relation() -%}
    {{ return(api.Relation.create(database=this.database, schema=this.schema, identifier=this.identifier ~ '__upstream')) }}
{%- endmacro %}

{#- A predicate on upstream row `alias`: written by a build this model has not processed (every
    row, when the state is missing). -#}
{% macro incremental_upstream_changed(alias) -%}
    {%- set state = incremental_upstream_relation() -%}
    {%- if adapter.get_relation(database=state.database, schema=state.schema, identifier=state.identifier) is none -%}
    (1 = 1)
    {%- else -%}
    ({{ alias }}._refresh_id not in (select _refresh_id from {{ state }}))
    {%- endif -%}
{%- endmacro %}

{#- Post-hooks: record the refresh ids the upstream model's table holds now. Two statements. -#}
{% macro incremental_record_upstream(step, upstream) -%}
    {%- set state = incremental_upstream_relation() -%}
    {%- if step == 'drop' -%}
    drop table if exists {{ state }}
    {%- else -%}
    create table {{ state }} as
    select distinct _refresh_id from {{ upstream }}
    {%- endif -%}
{%- endmacro %}

{#- A CTE body: the ids of the records of raw table `source_name` changed since the state. -#}
{% macro incremental_changed_ids(source_name) -%}
    select id from {{ source('autotask', source_name) }} as raw_{{ source_name }}
    where {{ incremental_changed('raw_' ~ source_name) }}
{%- endmacro %}

{#- The two CTEs incremental_changed needs, `incremental_state` and `incremental_new_loads`, each
    followed by a comma (they open a model's `with`). -#}
{% macro incremental_state_ctes() -%}
incremental_state as (

    {{ incremental_state_select() }}

),

incremental_new_loads as (

    {{ incremental_new_loads_select() }}

),
{%- endmacro %}

{#- The config of the incremental charge models (int_charges__resolved, bi_charges): on DuckDB
    incremental by charge_id (delete+insert), with the post-hooks that remove deleted charges,
    run `extra_post_hooks` and record the state; elsewhere a table. -#}
{% macro incremental_charge_model_config(extra_post_hooks=[]) -%}
    {%- set incremental = billready_incremental_enabled() -%}
    {{ return({
        'materialized': 'incremental' if incremental else 'table',
        'incremental_strategy': 'delete+insert' if incremental else none,
        'unique_key': 'charge_id' if incremental else none,
        'on_schema_change': 'sync_all_columns',
        'post_hook': (
            ["{{ delete_removed_charges() }}"]
            + extra_post_hooks
            + ["{{ incremental_record_state('drop') }}", "{{ incremental_record_state('create') }}"]
        ) if incremental else [],
    }) }}
{%- endmacro %}
