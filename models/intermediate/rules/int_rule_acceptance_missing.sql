{#- Rule acceptance_missing (agreement; optional inputs AgreementMilestones and
    MilestoneAcceptances): the milestone's matching agreement milestone requires acceptance, the
    milestone is complete, approved or billed, and no MilestoneAcceptances row carries its
    milestoneID. One row per finding. -#}
with

contract_milestones as (

    select * from {{ ref('stg_autotask__contract_milestones') }}

),

milestone_stages as (

    select * from {{ ref('int_contract_milestones__stages') }}

),

agreement_matches as (

    select * from {{ ref('int_agreement_milestones__matched') }}
    where milestone_id is not null
        and is_acceptance_required

),

milestone_acceptances as (

    select * from {{ ref('stg_autotask__milestone_acceptances') }}

),

final as (

    select
        'acceptance_missing' as rule_code,
        cast(contract_milestones.milestone_id as {{ dbt.type_string() }}) as finding_key,
        contract_milestones.milestone_id,
        contract_milestones.contract_id,
        cast(null as {{ dbt.type_string() }}) as charge_id,
        cast(contract_milestones.amount as {{ dbt.type_numeric() }}) as amount,
        {{ dbt.concat([
            "milestone_stages.stage",
            "'; the agreement requires acceptance, none is recorded'",
        ]) }} as detail

    from contract_milestones
    inner join milestone_stages
        on contract_milestones.milestone_id = milestone_stages.milestone_id
    inner join agreement_matches
        on contract_milestones.milestone_id = agreement_matches.milestone_id
    left join milestone_acceptances
        on contract_milestones.milestone_id = milestone_acceptances.milestone_id
    where milestone_stages.stage in ('complete', 'approved', 'billed')
        and milestone_acceptances.milestone_id is null

)

select * from final
