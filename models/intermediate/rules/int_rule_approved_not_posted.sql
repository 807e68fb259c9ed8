{#- Rule approved_not_posted (timing): the milestone is approved and was due at least
    var('approved_not_posted_days') days (default 7) before the as-of date: approved work left
    unbilled. One row per finding. -#}
{%- set days = var('approved_not_posted_days', 7) | string | trim -%}
{%- if not modules.re.match('^[0-9]+$', days) -%}
    {{ exceptions.raise_compiler_error("var approved_not_posted_days must be a whole number of days (>= 0), got '" ~ days ~ "'") }}
{%- endif -%}
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
        contract_milestones.due_date,
        {{ dbt.datediff('contract_milestones.due_date', as_of_date(), 'day') }} as days_past_due

    from contract_milestones
    inner join milestone_stages
        on contract_milestones.milestone_id = milestone_stages.milestone_id
    where milestone_stages.stage = 'approved'

),

left_unbilled as (

    select * from approved_milestones
    where days_past_due >= {{ days | int }}

),

final as (

    select
        'approved_not_posted' as rule_code,
        cast(milestone_id as {{ dbt.type_string() }}) as finding_key,
        milestone_id,
        contract_id,
        cast(null as {{ dbt.type_string() }}) as charge_id,
        cast(amount as {{ dbt.type_numeric() }}) as amount,
        {{ dbt.concat([
            "'approved, not posted; due '",
            "cast(due_date as " ~ dbt.type_string() ~ ")",
            "', '",
            "cast(days_past_due as " ~ dbt.type_string() ~ ")",
            "' days before the as-of date'",
        ]) }} as detail

    from left_unbilled

)

select * from final
