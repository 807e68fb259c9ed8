with

source as (

    select * from {{ source('autotask', 'contracts') }}
    where _deleted_at is null  -- gone from the tenant (docs/architecture.md)

),

renamed as (

    select
        id as contract_id,
        companyID as company_id,
        contractName as contract_name,
        contractNumber as contract_number,
        contractType as contract_type_value,
        status as status_value,
        cast(startDate as date) as start_date,
        cast(endDate as date) as end_date,
        cast(estimatedRevenue as {{ dbt.type_numeric() }}) as estimated_revenue,
        renewedContractID as renewed_contract_id,
        isDefaultContract as is_default_contract,
        _loaded_at,
        _source_file

    from source

)

select * from renamed
