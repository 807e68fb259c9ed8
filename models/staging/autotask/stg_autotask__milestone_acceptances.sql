with

source as (

    select * from {{ source('autotask', 'milestone_acceptances') }}
    where _deleted_at is null  -- gone from the tenant (docs/architecture.md)

),

renamed as (

    select
        milestoneID as milestone_id,
        cast(acceptedDate as date) as accepted_date,
        acceptedBy as accepted_by,
        _loaded_at,
        _source_file

    from source

)

select * from renamed
