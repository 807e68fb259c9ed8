{#- Rule contract_reference_mismatch, evaluated for every milestone (the mart keeps it only for
    pipeline milestones): the milestone's contract does not exist, or its status label is not
    Active, or its end date is before the milestone's due date, or the milestone's associated
    project belongs to another contract. -#}
with

contract_milestones as (

    select * from {{ ref('stg_autotask__contract_milestones') }}

),

milestone_projects as (

    select * from {{ ref('int_contract_milestones__projects') }}

),

contracts as (

    select * from {{ ref('stg_autotask__contracts') }}

),

contract_statuses as (

    select * from {{ ref('int_contracts__statuses') }}

),

projects as (

    select * from {{ ref('stg_autotask__projects') }}

),

checks as (

    select
        contract_milestones.milestone_id,
        contracts.contract_id is null as is_contract_missing,
        coalesce(not contract_statuses.is_active, false) as is_contract_inactive,
        coalesce(contracts.end_date < contract_milestones.due_date, false) as is_contract_ended,
        coalesce(
            projects.contract_id is not null
            and (contract_milestones.contract_id is null or projects.contract_id <> contract_milestones.contract_id),
            false
        ) as is_project_on_other_contract

    from contract_milestones
    left join contracts
        on contract_milestones.contract_id = contracts.contract_id
    left join contract_statuses
        on contracts.contract_id = contract_statuses.contract_id
    left join milestone_projects
        on contract_milestones.milestone_id = milestone_projects.milestone_id
    left join projects
        on milestone_projects.project_id = projects.project_id

),

final as (

    select
        milestone_id,
        (is_contract_missing or is_contract_inactive or is_contract_ended or is_project_on_other_contract)
            as has_contract_reference_mismatch,
        case
            when is_contract_missing then 'contract not found'
            when is_contract_inactive then 'contract not active'
            when is_contract_ended then 'contract ends before the due date'
            when is_project_on_other_contract then 'project belongs to another contract'
        end as contract_reference_reason

    from checks

)

select * from final
