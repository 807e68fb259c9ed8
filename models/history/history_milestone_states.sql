{#- Append-only: the state of every milestone at each published refresh (stage, amount, whether it
    carried a conflict). The refresh's build copy starts from the previous snapshot, so this table
    accumulates across refreshes; full_refresh=false keeps `dbt build --full-refresh` from wiping it.
    A build that fails is never published, so its rows never reach a reader. -#}
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        full_refresh=false,
    )
}}

with

contract_milestones as (

    select * from {{ ref('bi_contract_milestones') }}

),

final as (

    select
        '{{ history_refresh_id() }}' as refresh_id,
        {{ history_refreshed_at() }} as refreshed_at,
        {{ as_of_date() }} as as_of_date,
        milestone_id,
        contract_id,
        project_id,
        company_name,
        stage,
        amount,
        due_date,
        is_in_pipeline,
        has_conflict,
        conflict_count

    from contract_milestones

)

select * from final
{% if is_incremental() %}
where not exists (
    select 1 from {{ this }} as existing
    where existing.refresh_id = '{{ history_refresh_id() }}'
)
{% endif %}
