{#- Rule allocation_amount_mismatch (schedule; optional input MilestoneAllocations): a pipeline
    milestone whose allocation lines with method Variable amount or Equal amount have net amounts
    that do not total the extended price (the header's extendedPrice, the milestone amount when
    empty): the remaining amount is not 0, tolerance 0.005. One row per finding. -#}
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

amount_totals as (

    select
        milestone_id,
        count(*) as line_count,
        coalesce(sum(net_amount), 0) as total_net_amount,
        max(extended_price) as header_extended_price

    from milestone_allocations
    where lower(trim(allocation_method)) in ('variable amount', 'equal amount')
    group by milestone_id

),

remaining as (

    select
        contract_milestones.milestone_id,
        contract_milestones.contract_id,
        contract_milestones.amount,
        amount_totals.line_count,
        amount_totals.total_net_amount,
        coalesce(amount_totals.header_extended_price, contract_milestones.amount) as extended_price,
        coalesce(amount_totals.header_extended_price, contract_milestones.amount)
            - amount_totals.total_net_amount as remaining_amount

    from contract_milestones
    inner join milestone_stages
        on contract_milestones.milestone_id = milestone_stages.milestone_id
    inner join amount_totals
        on contract_milestones.milestone_id = amount_totals.milestone_id
    where milestone_stages.is_in_pipeline

),

final as (

    select
        'allocation_amount_mismatch' as rule_code,
        cast(milestone_id as {{ dbt.type_string() }}) as finding_key,
        milestone_id,
        contract_id,
        cast(null as {{ dbt.type_string() }}) as charge_id,
        cast(amount as {{ dbt.type_numeric() }}) as amount,
        {{ dbt.concat([
            "'net amounts '",
            format_amount('total_net_amount'),
            "' vs extended price '",
            format_amount('extended_price'),
            "': remaining '",
            format_amount('remaining_amount'),
        ]) }} as detail

    from remaining
    where abs(remaining_amount) > 0.005

)

select * from final
