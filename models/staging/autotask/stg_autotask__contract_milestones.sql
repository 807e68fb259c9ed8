with

source as (

    select * from {{ source('autotask', 'contract_milestones') }}
    where _deleted_at is null  -- gone from the tenant (docs/architecture.md)

),

renamed as (

    select
        id as milestone_id,
        contractID as contract_id,
        projectID as project_id,
        billingCodeID as billing_code_id,
        title as milestone_title,
        description as milestone_description,
        cast(amount as {{ dbt.type_numeric() }}) as amount,
        cast(dateDue as date) as due_date,
        status as status_value,
        isInitialPayment as is_initial_payment,
        cast(createDate as date) as created_date,
        _loaded_at,
        _source_file

    from source

)

select * from renamed
