with

source as (

    select * from {{ source('autotask', 'tickets') }}
    where _deleted_at is null  -- gone from the tenant (docs/architecture.md)

),

renamed as (

    select
        id as ticket_id,
        companyID as company_id,
        projectID as project_id,
        contractID as contract_id,
        contractServiceID as contract_service_id,
        ticketNumber as ticket_number,
        title as ticket_title,
        status as status_value,
        cast(createDate as date) as created_date,
        _loaded_at,
        _source_file

    from source

)

select * from renamed
