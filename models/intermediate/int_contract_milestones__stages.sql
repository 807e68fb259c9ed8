{#- A milestone's status label (picklist label of its status value, or the value itself when the
    export carries the label) and its billing stage. -#}
with

contract_milestones as (

    select * from {{ ref('stg_autotask__contract_milestones') }}

),

picklist_labels as (

    select * from {{ ref('int_picklist_labels') }}
    where entity_name = 'ContractMilestones'
        and field_name = 'status'

),

milestone_stage_map as (

    select * from {{ ref('milestone_stage_map') }}

),

billing_stages as (

    select * from {{ ref('billing_stages') }}

),

labelled as (

    select
        contract_milestones.milestone_id,
        contract_milestones.status_value,
        coalesce(picklist_labels.picklist_label, contract_milestones.status_value) as status_label

    from contract_milestones
    left join picklist_labels
        on contract_milestones.status_value = picklist_labels.picklist_value

),

staged as (

    select
        labelled.milestone_id,
        labelled.status_value,
        labelled.status_label,
        coalesce(milestone_stage_map.stage, 'unmapped') as stage

    from labelled
    left join milestone_stage_map
        on lower(trim(labelled.status_label)) = lower(trim(milestone_stage_map.status_label))

),

final as (

    select
        staged.milestone_id,
        staged.status_value,
        staged.status_label,
        staged.stage,
        billing_stages.priority_order as stage_priority,
        billing_stages.is_in_pipeline

    from staged
    inner join billing_stages
        on staged.stage = billing_stages.stage

)

select * from final
