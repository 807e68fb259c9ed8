{#- Rule agreement_milestone_missing (agreement; optional input AgreementMilestones): an agreement
    milestone that no PSA milestone on its contract matches by title. A gap of the contract: one
    row per missing agreement milestone, milestone_id null, amount the agreement's. -#}
with

agreement_matches as (

    select * from {{ ref('int_agreement_milestones__matched') }}

),

unmatched as (

    select * from agreement_matches
    where milestone_id is null

),

final as (

    select
        'agreement_milestone_missing' as rule_code,
        {{ dbt.concat(["cast(contract_id as " ~ dbt.type_string() ~ ")", "':'", "title_key"]) }} as finding_key,
        cast(null as {{ dbt.type_bigint() }}) as milestone_id,
        contract_id,
        cast(null as {{ dbt.type_string() }}) as charge_id,
        cast(agreement_amount as {{ dbt.type_numeric() }}) as amount,
        {{ dbt.concat([
            "'agreement milestone '",
            "agreement_milestone_title",
            "' ('",
            "coalesce(" ~ format_amount('agreement_amount') ~ ", 'no amount')",
            "') has no PSA milestone'",
        ]) }} as detail

    from unmatched

)

select * from final
