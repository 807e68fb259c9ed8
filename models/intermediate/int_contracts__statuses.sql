{#- A contract's status label: the tenant's Contracts status picklist, else Autotask's built-in
    values (1 Active, 0 Inactive), else the value itself when the export carries the label. -#}
with

contracts as (

    select * from {{ ref('stg_autotask__contracts') }}

),

picklist_labels as (

    select * from {{ ref('int_picklist_labels') }}
    where entity_name = 'Contracts'
        and field_name = 'status'

),

contract_type_labels as (

    select * from {{ ref('int_picklist_labels') }}
    where entity_name = 'Contracts'
        and field_name = 'contractType'

),

final as (

    select
        contracts.contract_id,
        coalesce(picklist_labels.picklist_label, contracts.status_value) as status_label,
        coalesce(lower(trim(coalesce(picklist_labels.picklist_label, contracts.status_value))) = 'active', false) as is_active,
        coalesce(contract_type_labels.picklist_label, contracts.contract_type_value) as contract_type_label

    from contracts
    left join picklist_labels
        on contracts.status_value = picklist_labels.picklist_value
    left join contract_type_labels
        on contracts.contract_type_value = contract_type_labels.picklist_value

)

select * from final
