with

source as (

    select * from {{ source('autotask', 'contracts') }}

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
        renewedContractID as renewed_contract_id,
        isDefaultContract as is_default_contract,
        _loaded_at,
        _source_file

    from source

)

select * from renamed
