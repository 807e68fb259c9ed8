{#- Rule contract_not_fixed_price (contract): a pipeline milestone whose contract's contractType
    label is known and is not Fixed Price (case and surrounding spaces ignored). A missing
    contract is contract_reference_mismatch's business; an empty contract type is not judged.
    One row per finding. -#}
with

contract_milestones as (

    select * from {{ ref('stg_autotask__contract_milestones') }}

),

milestone_stages as (

    select * from {{ ref('int_contract_milestones__stages') }}

),

contract_statuses as (

    select * from {{ ref('int_contracts__statuses') }}

),

pipeline_milestones as (

    select
        contract_milestones.milestone_id,
        contract_milestones.contract_id,
        contract_milestones.amount

    from contract_milestones
    inner join milestone_stages
        on contract_milestones.milestone_id = milestone_stages.milestone_id
    where milestone_stages.is_in_pipeline

),

final as (

    select
        'contract_not_fixed_price' as rule_code,
        cast(pipeline_milestones.milestone_id as {{ dbt.type_string() }}) as finding_key,
        pipeline_milestones.milestone_id,
        pipeline_milestones.contract_id,
        cast(null as {{ dbt.type_string() }}) as charge_id,
        cast(pipeline_milestones.amount as {{ dbt.type_numeric() }}) as amount,
        {{ dbt.concat(["'contract type '", "contract_statuses.contract_type_label"]) }} as detail

    from pipeline_milestones
    inner join contract_statuses
        on pipeline_milestones.contract_id = contract_statuses.contract_id
    where contract_statuses.contract_type_label is not null
        and lower(trim(contract_statuses.contract_type_label)) <> 'fixed price'

)

select * from final
