{#- Append-only: every (milestone, allocation rule) finding at each published refresh; the basis of
    time-to-resolve. Same lifecycle as history_milestone_states. -#}
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        full_refresh=false,
    )
}}

with

milestone_conflicts as (

    select * from {{ ref('bi_milestone_conflicts') }}

),

final as (

    select
        '{{ history_refresh_id() }}' as refresh_id,
        {{ history_refreshed_at() }} as refreshed_at,
        milestone_id,
        rule_code,
        stage,
        amount

    from milestone_conflicts

)

select * from final
{% if is_incremental() %}
where not exists (
    select 1 from {{ this }} as existing
    where existing.refresh_id = '{{ history_refresh_id() }}'
)
{% endif %}
