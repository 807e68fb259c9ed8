with

source as (

    select * from {{ source('autotask', 'projects') }}
    where _deleted_at is null  -- gone from the tenant (docs/architecture.md)

),

renamed as (

    select
        id as project_id,
        companyID as company_id,
        contractID as contract_id,
        projectName as project_name,
        projectNumber as project_number,
        projectType as project_type_value,
        status as status_value,
        cast(startDateTime as date) as start_date,
        cast(endDateTime as date) as end_date,
        _loaded_at,
        _source_file

    from source

)

select * from renamed
