with

source as (

    select * from {{ source('autotask', 'companies') }}
    where _deleted_at is null  -- gone from the tenant (docs/architecture.md)

),

renamed as (

    select
        id as company_id,
        companyName as company_name,
        companyNumber as company_number,
        companyType as company_type_value,
        isActive as is_active,
        parentCompanyID as parent_company_id,
        _loaded_at,
        _source_file

    from source

)

select * from renamed
