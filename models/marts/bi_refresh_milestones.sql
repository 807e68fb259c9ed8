{#- The milestone history as the semantic layer reads it: one row per (refresh, milestone), with a
    single-column key and the refresh time as sortable text for per-refresh trends. -#}
with

milestone_states as (

    select * from {{ ref('history_milestone_states') }}

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
