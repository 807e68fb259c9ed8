{#- Rule split_not_100 (split; optional input MilestoneSplits): a pipeline milestone split between
    customers whose percentages do not total 100, tolerance 0.01 (an empty percentage counts as 0).
    One row per finding. -#}
with

contract_milestones as (

    select * from {{ ref('stg_autotask__contract_milestones') }}

),

milestone_stages as (

    select * from {{ ref('int_contract_milestones__stages') }}

),

milestone_splits as (

    select * from {{ ref('stg_autotask__milestone_splits') }}

),

split_totals as (

    select
        milestone_id,
        count(*) as customer_count,
        coalesce(sum(split_percentage), 0) as total_percentage

    from milestone_splits
    group by milestone_id

),

final as (

    select
        'split_not_100' as rule_code,
        cast(contract_milestones.milestone_id as {{ dbt.type_string() }}) as finding_key,
        contract_milestones.milestone_id,
        contract_milestones.contract_id,
        cast(null as {{ dbt.type_string() }}) as charge_id,
        cast(contract_milestones.amount as {{ dbt.type_numeric() }}) as amount,
        {{ dbt.concat([
            "cast(split_totals.customer_count as " ~ dbt.type_string() ~ ")",
            "' customer(s) split '",
            format_amount('split_totals.total_percentage'),
            "'%'",
        ]) }} as detail

    from contract_milestones
    inner join milestone_stages
        on contract_milestones.milestone_id = milestone_stages.milestone_id
    inner join split_totals
        on contract_milestones.milestone_id = split_totals.milestone_id
    where milestone_stages.is_in_pipeline
        and abs(split_totals.total_percentage - 100) > 0.01

)

select * from final
