with

source as (

    select * from {{ source('autotask', 'milestone_splits') }}
    where _deleted_at is null  -- gone from the tenant (docs/architecture.md)

),

renamed as (

    select
        milestoneID as milestone_id,
        companyID as company_id,
        cast(percentage as {{ dbt.type_numeric() }}) as split_percentage,
        _loaded_at,
        _source_file

    from source

)

select * from renamed
