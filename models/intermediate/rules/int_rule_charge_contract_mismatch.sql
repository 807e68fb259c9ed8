{#- Rule charge_contract_mismatch: some charge on the milestone's associated project resolves to a
    contract that is not the milestone's. -#}
with

contract_milestones as (

    select * from {{ ref('stg_autotask__contract_milestones') }}

),

charge_contract_mismatches as (

    select * from {{ ref('int_charge_contract_mismatches') }}

),

mismatches_per_milestone as (

    select
        milestone_id,
        count(distinct charge_id) as mismatched_charge_count

    from charge_contract_mismatches
    group by milestone_id

),

final as (

    select
        contract_milestones.milestone_id,
        coalesce(mismatches_per_milestone.mismatched_charge_count, 0) > 0 as has_charge_contract_mismatch,
        coalesce(mismatches_per_milestone.mismatched_charge_count, 0) as mismatched_charge_count

    from contract_milestones
    left join mismatches_per_milestone
        on contract_milestones.milestone_id = mismatches_per_milestone.milestone_id

)

select * from final
