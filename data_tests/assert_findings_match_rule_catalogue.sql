{#- Every finding keeps to its catalogue row: a milestone-grain finding names a milestone whose
    stage is one of the rule's applies_to_stages; a charge-grain finding names a charge and no
    milestone; a contract-grain finding names a contract and neither milestone nor charge.
    One row per finding that does not. -#}
with

findings as (

    select * from {{ ref('bi_findings') }}

),

conflict_rules as (

    select * from {{ ref('conflict_rules') }}

),

checked as (

    select
        findings.finding_id,
        findings.rule_code,
        conflict_rules.grain,
        findings.stage,
        conflict_rules.applies_to_stages,
        case
            when conflict_rules.grain = 'milestone' then
                findings.milestone_id is not null
                and findings.stage is not null
                and {{ dbt.concat(["'|'", "conflict_rules.applies_to_stages", "'|'"]) }}
                    like {{ dbt.concat(["'%|'", "findings.stage", "'|%'"]) }}
            when conflict_rules.grain = 'charge' then
                findings.charge_id is not null and findings.milestone_id is null
            when conflict_rules.grain = 'contract' then
                findings.contract_id is not null and findings.milestone_id is null and findings.charge_id is null
            else false
        end as is_consistent

    from findings
    inner join conflict_rules
        on findings.rule_code = conflict_rules.rule_code

),

final as (

    select * from checked
    where not coalesce(is_consistent, false)

)

select * from final
