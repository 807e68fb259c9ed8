{#- Rule out_of_sequence (timing): the milestone is approved or billed while another milestone on
    the same contract with an earlier due date is still incomplete (stage incomplete). Flags the
    later milestone. One row per finding. -#}
with

contract_milestones as (

    select * from {{ ref('stg_autotask__contract_milestones') }}

),

milestone_stages as (

    select * from {{ ref('int_contract_milestones__stages') }}

),

staged_milestones as (

    select
        contract_milestones.milestone_id,
        contract_milestones.contract_id,
        contract_milestones.amount,
        contract_milestones.due_date,
        milestone_stages.stage

    from contract_milestones
    inner join milestone_stages
        on contract_milestones.milestone_id = milestone_stages.milestone_id

),

approved_or_billed as (

    select * from staged_milestones
    where stage in ('approved', 'billed')

),

still_incomplete as (

    select * from staged_milestones
    where stage = 'incomplete'

),

earlier_incomplete as (

    select
        approved_or_billed.milestone_id,
        count(*) as earlier_incomplete_count,
        min(still_incomplete.due_date) as first_incomplete_due_date

    from approved_or_billed
    inner join still_incomplete
        on approved_or_billed.contract_id = still_incomplete.contract_id
        and still_incomplete.due_date < approved_or_billed.due_date
    group by approved_or_billed.milestone_id

),

final as (

    select
        'out_of_sequence' as rule_code,
        cast(approved_or_billed.milestone_id as {{ dbt.type_string() }}) as finding_key,
        approved_or_billed.milestone_id,
        approved_or_billed.contract_id,
        cast(null as {{ dbt.type_string() }}) as charge_id,
        cast(approved_or_billed.amount as {{ dbt.type_numeric() }}) as amount,
        {{ dbt.concat([
            "approved_or_billed.stage",
            "' while '",
            "cast(earlier_incomplete.earlier_incomplete_count as " ~ dbt.type_string() ~ ")",
            "' earlier milestone(s) on the contract are incomplete, the first due '",
            "cast(earlier_incomplete.first_incomplete_due_date as " ~ dbt.type_string() ~ ")",
        ]) }} as detail

    from approved_or_billed
    inner join earlier_incomplete
        on approved_or_billed.milestone_id = earlier_incomplete.milestone_id

)

select * from final
