{#- One row per (pipeline milestone, conflict rule it breaks): the findings list behind the
    per-rule cards. Grain: milestone_id + rule_code. -#}
with

contract_milestones as (

    select * from {{ ref('bi_contract_milestones') }}

),

conflict_rules as (

    select * from {{ ref('conflict_rules') }}

),

findings as (

    {%- set rule_flags = [
        'contract_reference_mismatch',
        'missing_allocation_code',
        'charge_contract_mismatch',
        'project_without_contract',
    ] %}
    {%- for rule_code in rule_flags %}
    select
        milestone_id,
        '{{ rule_code }}' as rule_code

    from contract_milestones
    where has_{{ rule_code }}
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}

),

final as (

    select
        {{ dbt.concat(["cast(findings.milestone_id as " ~ dbt.type_string() ~ ")", "':'", "findings.rule_code"]) }}
            as milestone_conflict_id,
        findings.milestone_id,
        findings.rule_code,
        conflict_rules.category,
        conflict_rules.severity,
        contract_milestones.stage,
        contract_milestones.amount,
        contract_milestones.company_name,
        contract_milestones.project_name,
        contract_milestones.contract_name,
        contract_milestones.due_date

    from findings
    inner join contract_milestones
        on findings.milestone_id = contract_milestones.milestone_id
    inner join conflict_rules
        on findings.rule_code = conflict_rules.rule_code

)

select * from final
