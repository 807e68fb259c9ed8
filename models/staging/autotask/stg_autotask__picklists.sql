with

source as (

    select * from {{ source('autotask', 'picklists') }}
    where _deleted_at is null  -- gone from the tenant (docs/architecture.md)

),

renamed as (

    select
        entity as entity_name,
        field as field_name,
        cast(value as {{ dbt.type_string() }}) as picklist_value,
        label as picklist_label,
        isActive as is_active,
        _loaded_at,
        _source_file

    from source

)

select * from renamed
