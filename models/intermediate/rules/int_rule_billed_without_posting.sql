{#- Rule billed_without_posting (billing): the milestone is billed and no BillingItems row carries
    its milestoneID: it was never posted through Approve and Post. One row per finding. -#}
with

contract_milestones as (

    select * from {{ ref('stg_autotask__contract_milestones') }}

),

milestone_stages as (

    select * from {{ ref('int_contract_milestones__stages') }}

),

billing_items as (

    select * from {{ ref('stg_autotask__billing_items') }}

),

posted_milestones as (

    select distinct milestone_id

    from billing_items
    where milestone_id is not null

),

billed_milestones as (

    select
        contract_milestones.milestone_id,
        contract_milestones.contract_id,
        contract_milestones.amount

    from contract_milestones
    inner join milestone_stages
        on contract_milestones.milestone_id = milestone_stages.milestone_id
    where milestone_stages.stage = 'billed'

),

final as (

    select
        'billed_without_posting' as rule_code,
        cast(billed_milestones.milestone_id as {{ dbt.type_string() }}) as finding_key,
        billed_milestones.milestone_id,
        billed_milestones.contract_id,
        cast(null as {{ dbt.type_string() }}) as charge_id,
        cast(billed_milestones.amount as {{ dbt.type_numeric() }}) as amount,
        'status Billed, but no billing item carries the milestone' as detail

    from billed_milestones
    left join posted_milestones
        on billed_milestones.milestone_id = posted_milestones.milestone_id
    where posted_milestones.milestone_id is null

)

select * from final
