{#- Rule double_billed (billing): the milestone is billed and more than one BillingItems row
    carries its milestoneID, or their extendedPrice sum exceeds its amount (an empty amount counts
    as 0). One row per finding. -#}
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

postings_per_milestone as (

    select
        milestone_id,
        count(*) as billing_item_count,
        coalesce(sum(extended_price), 0) as posted_amount

    from billing_items
    where milestone_id is not null
    group by milestone_id

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

over_posted as (

    select
        billed_milestones.milestone_id,
        billed_milestones.contract_id,
        billed_milestones.amount,
        postings_per_milestone.billing_item_count,
        postings_per_milestone.posted_amount

    from billed_milestones
    inner join postings_per_milestone
        on billed_milestones.milestone_id = postings_per_milestone.milestone_id
    where postings_per_milestone.billing_item_count > 1
        or postings_per_milestone.posted_amount > coalesce(billed_milestones.amount, 0)

),

final as (

    select
        'double_billed' as rule_code,
        cast(milestone_id as {{ dbt.type_string() }}) as finding_key,
        milestone_id,
        contract_id,
        cast(null as {{ dbt.type_string() }}) as charge_id,
        cast(amount as {{ dbt.type_numeric() }}) as amount,
        {{ dbt.concat([
            "cast(billing_item_count as " ~ dbt.type_string() ~ ")",
            "' billing item(s), '",
            format_amount('posted_amount'),
            "' posted vs '",
            "coalesce(" ~ format_amount('amount') ~ ", '0.00')",
        ]) }} as detail

    from over_posted

)

select * from final
