with

source as (

    select * from {{ source('autotask', 'milestone_allocations') }}
    where _deleted_at is null  -- gone from the tenant (docs/architecture.md)

),

renamed as (

    select
        id as milestone_allocation_id,
        milestoneID as milestone_id,
        method as allocation_method,
        itemNumber as item_number,
        cast(percentage as {{ dbt.type_numeric() }}) as percentage,
        cast(allocationPercentage as {{ dbt.type_numeric() }}) as allocation_percentage,
        cast(netAmount as {{ dbt.type_numeric() }}) as net_amount,
        cast(extendedPrice as {{ dbt.type_numeric() }}) as extended_price,
        _loaded_at,
        _source_file

    from source

)

select * from renamed
