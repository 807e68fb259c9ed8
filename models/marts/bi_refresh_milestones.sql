{#- The milestone history as the semantic layer reads it: one row per (refresh, milestone), with a
    single-column key and the refresh time as sortable text for per-refresh trends.

    Append-only on DuckDB, as history_milestone_states is: a row depends on its history row
    alone, so a build adds the refreshes this table does not hold yet instead of rewriting every
    refresh's rows (a million per refresh at a million milestones). Elsewhere (Spark) a table. -#}
{{
    config(
        materialized=('incremental' if billready_incremental_enabled() else 'table'),
        incremental_strategy=('append' if billready_incremental_enabled() else none),
        on_schema_change='sync_all_columns',
    )
}}
with

milestone_states as (

    select * from {{ ref('history_milestone_states') }}
    {% if is_incremental() -%}
    where refresh_id not in (select distinct refresh_id from {{ this }})
    {%- endif %}

),

final as (

    select
        {{ dbt.concat(["refresh_id", "':'", "cast(milestone_id as " ~ dbt.type_string() ~ ")"]) }}
            as refresh_milestone_id,
        refresh_id,
        refreshed_at,
        cast(refreshed_at as {{ dbt.type_string() }}) as refreshed_at_label,
        milestone_id,
        stage,
        amount,
        is_in_pipeline,
        has_conflict

    from milestone_states

)

select * from final
