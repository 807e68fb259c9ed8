with

source as (

    select * from {{ source('autotask', 'agreement_milestones') }}
    where _deleted_at is null  -- gone from the tenant (docs/architecture.md)

),

renamed as (

    select
        contractID as contract_id,
        title as agreement_milestone_title,
        cast(amount as {{ dbt.type_numeric() }}) as agreement_amount,
        acceptanceRequired as is_acceptance_required,
        amendmentVersion as amendment_version,
        _loaded_at,
        _source_file

    from source

)

select * from renamed
