{{ config(severity='warn', store_failures=true, schema='audit') }}
{#- Names every milestone status label with no billing stage in seeds/milestone_stage_map.csv.
    Such milestones get stage `unmapped`: they stay in the pipeline but sort last. -#}
with

milestone_stages as (

    select * from {{ ref('int_contract_milestones__stages') }}

),

final as (

    select
        status_label,
        count(*) as milestone_count

    from milestone_stages
    where stage = 'unmapped'
    group by status_label

)

select * from final
