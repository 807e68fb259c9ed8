with

source as (

    select * from {{ source('autotask', 'billing_items') }}
    where _deleted_at is null  -- gone from the tenant (docs/architecture.md)

),

renamed as (

    select
        id as billing_item_id,
        milestoneID as milestone_id,
        contractID as contract_id,
        projectID as project_id,
        companyID as company_id,
        invoiceID as invoice_id,
        itemName as item_name,
        cast(extendedPrice as {{ dbt.type_numeric() }}) as extended_price,
        cast(postedDate as date) as posted_date,
        cast(itemDate as date) as item_date,
        _loaded_at,
        _source_file

    from source

)

select * from renamed
