{#- One row per (milestone, charge) where a charge on the milestone's associated project resolves
    to a contract that is not the milestone's. Feeds the charge_contract_mismatch rule and the
    charge-level conflict flag. -#}
with

contract_milestones as (

    select * from {{ ref('stg_autotask__contract_milestones') }}

),

milestone_projects as (

    select * from {{ ref('int_contract_milestones__projects') }}

),

charges as (

    select * from {{ ref('int_charges__resolved') }}

),

final as (

    select
        contract_milestones.milestone_id,
        charges.charge_id,
        contract_milestones.contract_id as milestone_contract_id,
        charges.contract_id as charge_contract_id,
        milestone_projects.project_id

    from contract_milestones
    inner join milestone_projects
        on contract_milestones.milestone_id = milestone_projects.milestone_id
    inner join charges
        on milestone_projects.project_id = charges.project_id
    where charges.contract_id is not null
        and (contract_milestones.contract_id is null or charges.contract_id <> contract_milestones.contract_id)

)

select * from final
