{#- A milestone's project association: its explicit projectID when present; otherwise the one
    project on the milestone's contract; none when zero or several projects qualify. -#}
with

contract_milestones as (

    select * from {{ ref('stg_autotask__contract_milestones') }}

),

projects as (

    select * from {{ ref('stg_autotask__projects') }}

),

projects_per_contract as (

    select
        contract_id,
        min(project_id) as project_id,
        count(*) as project_count

    from projects
    where contract_id is not null
    group by contract_id

),

only_project_per_contract as (

    select
        contract_id,
        project_id

    from projects_per_contract
    where project_count = 1

),

final as (

    select
        contract_milestones.milestone_id,
        coalesce(contract_milestones.project_id, only_project_per_contract.project_id) as project_id,
        case
            when contract_milestones.project_id is not null then 'explicit'
            when only_project_per_contract.project_id is not null then 'contract'
            else 'none'
        end as project_association

    from contract_milestones
    left join only_project_per_contract
        on contract_milestones.contract_id = only_project_per_contract.contract_id

)

select * from final
