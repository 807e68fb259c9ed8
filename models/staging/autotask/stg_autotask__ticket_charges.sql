with

source as (

    select * from {{ source('autotask', 'ticket_charges') }}
    where _deleted_at is null  -- gone from the tenant (docs/architecture.md)

),

renamed as (

    select
        id as ticket_charge_id,
        ticketID as ticket_id,
        contractServiceID as contract_service_id,
        billingCodeID as billing_code_id,
        name as charge_name,
        chargeType as charge_type_value,
        status as status_value,
        cast(billableAmount as {{ dbt.type_numeric() }}) as billable_amount,
        cast(datePurchased as date) as purchased_date,
        isBilled as is_billed,
        _loaded_at,
        _source_file

    from source

)

select * from renamed
