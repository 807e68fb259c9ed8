with

source as (

    select * from {{ source('autotask', 'contract_services') }}
    where _deleted_at is null  -- gone from the tenant (docs/architecture.md)

),

renamed as (

    select
        id as contract_service_id,
        contractID as contract_id,
        serviceID as service_id,
        invoiceDescription as invoice_description,
        _loaded_at,
        _source_file

    from source

)

select * from renamed
