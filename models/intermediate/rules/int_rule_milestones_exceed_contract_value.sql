{#- Rule milestones_exceed_contract_value (contract): the amounts of all the contract's milestones
    (every stage) add up to more than its estimatedRevenue, when that is above 0. Flags the
    contract's pipeline milestones. One row per finding. -#}
with

contract_milestones as (

    select * from {{ ref('stg_autotask__contract_milestones') }}

),

milestone_stages as (

    select * from {{ ref('int_contract_milestones__stages') }}

),

contracts as (

    select * from {{ ref('stg_autotask__contracts') }}

),

milestone_totals as (

    select
        contract_id,
        count(*) as milestone_count,
        coalesce(sum(amount), 0) as milestone_total

    from contract_milestones
    where contract_id is not null
    group by contract_id

),

contracts_exceeded as (

    select
        contracts.contract_id,
        contracts.estimated_revenue,
        milestone_totals.milestone_count,
        milestone_totals.milestone_total

    from contracts
    inner join milestone_totals
        on contracts.contract_id = milestone_totals.contract_id
    where contracts.estimated_revenue > 0
        and milestone_totals.milestone_total > contracts.estimated_revenue

),

final as (

    select
        'milestones_exceed_contract_value' as rule_code,
        cast(contract_milestones.milestone_id as {{ dbt.type_string() }}) as finding_key,
        contract_milestones.milestone_id,
        contract_milestones.contract_id,
        cast(null as {{ dbt.type_string() }}) as charge_id,
        cast(contract_milestones.amount as {{ dbt.type_numeric() }}) as amount,
        {{ dbt.concat([
            "cast(contracts_exceeded.milestone_count as " ~ dbt.type_string() ~ ")",
            "' milestones total '",
            format_amount('contracts_exceeded.milestone_total'),
            "' vs contract value '",
            format_amount('contracts_exceeded.estimated_revenue'),
        ]) }} as detail

    from contract_milestones
    inner join milestone_stages
        on contract_milestones.milestone_id = milestone_stages.milestone_id
    inner join contracts_exceeded
        on contract_milestones.contract_id = contracts_exceeded.contract_id
    where milestone_stages.is_in_pipeline

)

select * from final
