{#- Rule posted_to_other_contract (billing): the milestone is billed and a BillingItems row for it
    carries a contractID (not empty) other than the milestone's. One row per finding. -#}
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

contracts as (

    select * from {{ ref('stg_autotask__contracts') }}

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

items_on_other_contracts as (

    select
        billed_milestones.milestone_id,
        count(*) as other_item_count,
        min(billing_items.contract_id) as other_contract_id

    from billed_milestones
    inner join billing_items
        on billed_milestones.milestone_id = billing_items.milestone_id
    where billing_items.contract_id is not null
        and (billed_milestones.contract_id is null or billing_items.contract_id <> billed_milestones.contract_id)
    group by billed_milestones.milestone_id

),

final as (

    select
        'posted_to_other_contract' as rule_code,
        cast(billed_milestones.milestone_id as {{ dbt.type_string() }}) as finding_key,
        billed_milestones.milestone_id,
        billed_milestones.contract_id,
        cast(null as {{ dbt.type_string() }}) as charge_id,
        cast(billed_milestones.amount as {{ dbt.type_numeric() }}) as amount,
        {{ dbt.concat([
            "cast(items_on_other_contracts.other_item_count as " ~ dbt.type_string() ~ ")",
            "' billing item(s) posted to contract '",
            "coalesce(contracts.contract_name, cast(items_on_other_contracts.other_contract_id as " ~ dbt.type_string() ~ "))",
        ]) }} as detail

    from billed_milestones
    inner join items_on_other_contracts
        on billed_milestones.milestone_id = items_on_other_contracts.milestone_id
    left join contracts
        on items_on_other_contracts.other_contract_id = contracts.contract_id

)

select * from final
