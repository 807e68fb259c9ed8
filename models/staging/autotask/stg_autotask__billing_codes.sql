with

source as (

    select * from {{ source('autotask', 'billing_codes') }}
    where _deleted_at is null  -- gone from the tenant (docs/architecture.md)

),

renamed as (

    select
        id as billing_code_id,
        name as billing_code_name,
        billingCodeType as billing_code_type_value,
        useType as use_type_value,
        isActive as is_active,
        _loaded_at,
        _source_file

    from source

)

select * from renamed
