{#- One label per (entity, field, value). The tenant's landed picklists win; Autotask's built-in
    values (seed) apply only to an entity field the tenant landed no picklist for. -#}
with

tenant_picklists as (

    select * from {{ ref('stg_autotask__picklists') }}

),

default_picklists as (

    select * from {{ ref('autotask_default_picklists') }}

),

tenant_fields as (

    select distinct
        entity_name,
        field_name

    from tenant_picklists

),

defaults_not_overridden as (

    select
        default_picklists.entity_name,
        default_picklists.field_name,
        default_picklists.picklist_value,
        default_picklists.picklist_label

    from default_picklists
    left join tenant_fields
        on default_picklists.entity_name = tenant_fields.entity_name
        and default_picklists.field_name = tenant_fields.field_name
    where tenant_fields.entity_name is null

),

final as (

    select
        entity_name,
        field_name,
        picklist_value,
        picklist_label

    from tenant_picklists

    union all

    select
        entity_name,
        field_name,
        picklist_value,
        picklist_label

    from defaults_not_overridden

)

select * from final
