{#- Rule project_without_contract: the milestone's explicit projectID names a project that has no
    contract. (A projectID naming no project at all is not this rule: there is no project to link.) -#}
with

contract_milestones as (

    select * from {{ ref('stg_autotask__contract_milestones') }}

),

projects as (

    select * from {{ ref('stg_autotask__projects') }}

),

final as (

    select
        contract_milestones.milestone_id,
        coalesce(projects.project_id is not null and projects.contract_id is null, false)
            as has_project_without_contract

    from contract_milestones
    left join projects
        on contract_milestones.project_id = projects.project_id

)

select * from final
