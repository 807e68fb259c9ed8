{#- Rule completion_over_100 (schedule; optional input MilestoneAllocations): a pipeline
    milestone whose allocation lines with method Percent of completion have allocation percentages
    totalling more than 100. One row per finding. -#}
with

contract_milestones as (

    select * from {{ ref('stg_autotask__contract_milestones') }}

),

milestone_stages as (

    select * from {{ ref('int_contract_milestones__stages') }}

),

milestone_allocations as (

    select * from {{ ref('stg_autotask__milestone_allocations') }}

),

completion_totals as (

    select
        milestone_id,
        count(*) as line_count,
        coalesce(sum(allocation_percentage), 0) as total_allocation_percentage

    from milestone_allocations
    where lower(trim(allocation_method)) = 'percent of completion'
    group by milestone_id

),

final as (

    select
        'completion_over_100' as rule_code,
        cast(contract_milestones.milestone_id as {{ dbt.type_string() }}) as finding_key,
        contract_milestones.milestone_id,
        contract_milestones.contract_id,
        cast(null as {{ dbt.type_string() }}) as charge_id,
        cast(contract_milestones.amount as {{ dbt.type_numeric() }}) as amount,
        {{ dbt.concat([
            "cast(completion_totals.line_count as " ~ dbt.type_string() ~ ")",
            "' completion line(s) total '",
            format_amount('completion_totals.total_allocation_percentage'),
            "'%'",
        ]) }} as detail

    from contract_milestones
    inner join milestone_stages
        on contract_milestones.milestone_id = milestone_stages.milestone_id
    inner join completion_totals
        on contract_milestones.milestone_id = completion_totals.milestone_id
    where milestone_stages.is_in_pipeline
        and completion_totals.total_allocation_percentage > 100

)

select * from final
