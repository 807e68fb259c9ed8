{#- Rule amount_differs_from_agreement (agreement; optional input AgreementMilestones): a pipeline
    milestone matched to an agreement milestone whose amount (not empty) differs from the
    milestone's (an empty milestone amount counts as 0) by more than 0.005. One row per finding. -#}
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

),

final as (

    select
        'amount_differs_from_agreement' as rule_code,
        cast(contract_milestones.milestone_id as {{ dbt.type_string() }}) as finding_key,
        contract_milestones.milestone_id,
        contract_milestones.contract_id,
        cast(null as {{ dbt.type_string() }}) as charge_id,
        cast(contract_milestones.amount as {{ dbt.type_numeric() }}) as amount,
        {{ dbt.concat([
            "'PSA '",
            "coalesce(" ~ format_amount('contract_milestones.amount') ~ ", '0.00')",
            "' vs agreement '",
            format_amount('agreement_matches.agreement_amount'),
            "coalesce(" ~ dbt.concat(["' (amendment '", "cast(agreement_matches.amendment_version as " ~ dbt.type_string() ~ ")", "')'"]) ~ ", '')",
        ]) }} as detail

    from contract_milestones
    inner join milestone_stages
        on contract_milestones.milestone_id = milestone_stages.milestone_id
    inner join agreement_matches
        on contract_milestones.milestone_id = agreement_matches.milestone_id
    where milestone_stages.is_in_pipeline
        and agreement_matches.agreement_amount is not null
        and abs(coalesce(contract_milestones.amount, 0) - agreement_matches.agreement_amount) > 0.005

)

select * from final
