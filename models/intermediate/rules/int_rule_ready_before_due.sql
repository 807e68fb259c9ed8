{#- Rule ready_before_due (timing): the milestone is approved and due after the as-of date, so
    Approve and Post will not list it yet. One row per finding. -#}
with

contract_milestones as (

    select * from {{ ref('stg_autotask__contract_milestones') }}

),

milestone_stages as (

    select * from {{ ref('int_contract_milestones__stages') }}

),

approved_milestones as (

    select
        contract_milestones.milestone_id,
        contract_milestones.contract_id,
        contract_milestones.amount,
        contract_milestones.due_date

    from contract_milestones
    inner join milestone_stages
        on contract_milestones.milestone_id = milestone_stages.milestone_id
    where milestone_stages.stage = 'approved'

),

due_later as (

    select
        *,
        {{ dbt.datediff(as_of_date(), 'due_date', 'day') }} as days_until_due

    from approved_milestones
    where due_date > {{ as_of_date() }}

),

final as (

    select
        'ready_before_due' as rule_code,
        cast(milestone_id as {{ dbt.type_string() }}) as finding_key,
        milestone_id,
        contract_id,
        cast(null as {{ dbt.type_string() }}) as charge_id,
        cast(amount as {{ dbt.type_numeric() }}) as amount,
        {{ dbt.concat([
            "'approved; due '",
            "cast(due_date as " ~ dbt.type_string() ~ ")",
            "', '",
            "cast(days_until_due as " ~ dbt.type_string() ~ ")",
            "' days after the as-of date'",
        ]) }} as detail

    from due_later

)

select * from final
