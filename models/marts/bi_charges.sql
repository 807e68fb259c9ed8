{#- One row per charge (ProjectCharges, ContractCharges and TicketCharges together; charge_id is
    unique across the three), with the project and contract it resolves to, its allocation target,
    whether it conflicts with a pipeline milestone's contract, and whether it names a contract
    service of another contract than its project's or ticket's (rule service_on_other_contract). -#}
with

charges as (

    select * from {{ ref('int_charges__resolved') }}

),

charge_contract_mismatches as (

    select * from {{ ref('int_charge_contract_mismatches') }}

),

milestone_stages as (

    select * from {{ ref('int_contract_milestones__stages') }}

),

projects as (

    select * from {{ ref('stg_autotask__projects') }}

),

contracts as (

    select * from {{ ref('stg_autotask__contracts') }}

),

service_on_other_contract as (

    select * from {{ ref('int_rule_service_on_other_contract') }}

),

pipeline_conflicts as (

    select
        charge_contract_mismatches.charge_id,
        count(distinct charge_contract_mismatches.milestone_id) as conflicting_milestone_count

    from charge_contract_mismatches
    inner join milestone_stages
        on charge_contract_mismatches.milestone_id = milestone_stages.milestone_id
    where milestone_stages.is_in_pipeline
    group by charge_contract_mismatches.charge_id

),

final as (

    select
        charges.charge_id,
        charges.charge_source,
        charges.source_charge_id,
        charges.charge_name,
        charges.billing_code_id,
        charges.billable_amount,
        charges.purchased_date,
        charges.contract_service_id,
        charges.ticket_id,
        charges.project_id,
        projects.project_name,
        charges.contract_id,
        contracts.contract_name,
        coalesce(projects.company_id, contracts.company_id) as company_id,
        charges.contract_resolved_from,
        charges.allocation_target,
        coalesce(pipeline_conflicts.conflicting_milestone_count, 0) > 0 as is_contract_conflict,
        coalesce(pipeline_conflicts.conflicting_milestone_count, 0) as conflicting_milestone_count,
        service_on_other_contract.charge_id is not null as has_service_on_other_contract

    from charges
    left join pipeline_conflicts
        on charges.charge_id = pipeline_conflicts.charge_id
    left join projects
        on charges.project_id = projects.project_id
    left join contracts
        on charges.contract_id = contracts.contract_id
    left join service_on_other_contract
        on charges.charge_id = service_on_other_contract.charge_id

)

select * from final
