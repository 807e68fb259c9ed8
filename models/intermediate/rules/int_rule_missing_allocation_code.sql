{#- Rule missing_allocation_code: the milestone has an amount above zero and its billingCodeID is
    empty, names no billing code, or names an inactive one. -#}
with

contract_milestones as (

    select * from {{ ref('stg_autotask__contract_milestones') }}

),

billing_codes as (

    select * from {{ ref('stg_autotask__billing_codes') }}

),

checks as (

    select
        contract_milestones.milestone_id,
        coalesce(contract_milestones.amount > 0, false) as has_amount,
        contract_milestones.billing_code_id is null as is_code_empty,
        contract_milestones.billing_code_id is not null and billing_codes.billing_code_id is null as is_code_unknown,
        coalesce(not billing_codes.is_active, false) as is_code_inactive

    from contract_milestones
    left join billing_codes
        on contract_milestones.billing_code_id = billing_codes.billing_code_id

),

final as (

    select
        milestone_id,
        has_amount and (is_code_empty or is_code_unknown or is_code_inactive) as has_missing_allocation_code,
        case
            when not has_amount then null
            when is_code_empty then 'no allocation code'
            when is_code_unknown then 'allocation code not found'
            when is_code_inactive then 'allocation code inactive'
        end as missing_allocation_reason

    from checks

)

select * from final
