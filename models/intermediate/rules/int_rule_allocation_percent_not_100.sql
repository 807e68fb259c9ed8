{#- Rule allocation_percent_not_100 (schedule; optional input MilestoneAllocations): a pipeline
    milestone whose allocation lines with method Percentage or Equal amount (case and surrounding
    spaces ignored) have percentages that do not total 100, tolerance 0.01 (an empty percentage
    counts as 0). One row per finding. -#}
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

percentage_totals as (

    select
        milestone_id,
        count(*) as line_count,
        coalesce(sum(percentage), 0) as total_percentage

    from milestone_allocations
    where lower(trim(allocation_method)) in ('percentage', 'equal amount')
    group by milestone_id

),

final as (

    select
        'allocation_percent_not_100' as rule_code,
        cast(contract_milestones.milestone_id as {{ dbt.type_string() }}) as finding_key,
        contract_milestones.milestone_id,
        contract_milestones.contract_id,
        cast(null as {{ dbt.type_string() }}) as charge_id,
        cast(contract_milestones.amount as {{ dbt.type_numeric() }}) as amount,
        {{ dbt.concat([
            "cast(percentage_totals.line_count as " ~ dbt.type_string() ~ ")",
            "' allocation line(s) total '",
            format_amount('percentage_totals.total_percentage'),
            "'%'",
        ]) }} as detail

    from contract_milestones
    inner join milestone_stages
        on contract_milestones.milestone_id = milestone_stages.milestone_id
    inner join percentage_totals
        on contract_milestones.milestone_id = percentage_totals.milestone_id
    where milestone_stages.is_in_pipeline
        and abs(percentage_totals.total_percentage - 100) > 0.01

)

select * from final
