{#- Grain: one row per finding (a rule that holds for a milestone, a charge or a contract). The
    four allocation rules come from bi_contract_milestones' has_<rule_code> flags (pipeline
    milestones only; they alone feed the reference KPIs); every other rule from its model
    int_rule_<rule_code> (vars billready_allocation_rules and billready_finding_rules list them).
    Findings of rules that are not evaluated (an optional input was not landed) are left out.
    action_rank orders the action list: stage (approved, complete, incomplete, unmapped, billed,
    then findings with no milestone), severity (blocker, warning, info), amount descending; the
    table is stored in that order, so the report's first rows of the list read one row group.
    Charges are looked up only for the charge findings (a semi-join), not all of bi_charges. -#}
{%- set allocation_rules = var('billready_allocation_rules') -%}
{%- set finding_rules = var('billready_finding_rules') -%}
{%- set allocation_details = {
    'contract_reference_mismatch': 'contract_milestones.contract_reference_reason',
    'missing_allocation_code': 'contract_milestones.missing_allocation_reason',
    'charge_contract_mismatch': dbt.concat([
        "cast(contract_milestones.mismatched_charge_count as " ~ dbt.type_string() ~ ")",
        "' charge(s) on the project resolve to another contract'",
    ]),
    'project_without_contract': dbt.concat([
        "'project '",
        "coalesce(contract_milestones.project_name, cast(contract_milestones.project_id as " ~ dbt.type_string() ~ "))",
        "' has no contract'",
    ]),
} -%}
with

contract_milestones as {{ not_materialized() }} (

    select * from {{ ref('bi_contract_milestones') }}

),

charges as (

    select * from {{ ref('bi_charges') }}

),

contracts as (

    select * from {{ ref('stg_autotask__contracts') }}

),

companies as (

    select * from {{ ref('stg_autotask__companies') }}

),

conflict_rules as (

    select * from {{ ref('conflict_rules') }}

),

billing_stages as (

    select * from {{ ref('billing_stages') }}

),

rule_evaluation as (

    select * from {{ ref('int_rules__evaluation') }}

),
{% for rule_code in finding_rules %}
rule_{{ rule_code }} as (

    select * from {{ ref('int_rule_' ~ rule_code) }}

),
{% endfor %}
allocation_findings as (
    {% for rule_code in allocation_rules %}
    select
        '{{ rule_code }}' as rule_code,
        cast(contract_milestones.milestone_id as {{ dbt.type_string() }}) as finding_key,
        contract_milestones.milestone_id,
        contract_milestones.contract_id,
        cast(null as {{ dbt.type_string() }}) as charge_id,
        cast(contract_milestones.amount as {{ dbt.type_numeric() }}) as amount,
        {{ allocation_details.get(rule_code, 'cast(null as ' ~ dbt.type_string() ~ ')') }} as detail

    from contract_milestones
    where contract_milestones.has_{{ rule_code }}
    {% if not loop.last %}
    union all
    {% endif %}
    {%- endfor %}

),

rule_findings as (
    {% for rule_code in finding_rules %}
    select
        rule_code,
        finding_key,
        milestone_id,
        contract_id,
        charge_id,
        amount,
        detail

    from rule_{{ rule_code }}
    {% if not loop.last %}
    union all
    {% endif %}
    {%- endfor %}

),

unioned as (

    select * from allocation_findings
    union all
    select * from rule_findings

),

evaluated as (

    select unioned.*

    from unioned
    inner join rule_evaluation
        on unioned.rule_code = rule_evaluation.rule_code
    where rule_evaluation.is_evaluated

),

finding_charges as (

    select
        charges.charge_id,
        charges.company_id,
        charges.project_id,
        charges.project_name

    from charges
    where charges.charge_id in (
        select evaluated.charge_id from evaluated where evaluated.charge_id is not null
    )

),

enriched as (

    select
        {{ dbt.concat(["evaluated.rule_code", "':'", "evaluated.finding_key"]) }} as finding_id,
        evaluated.rule_code,
        conflict_rules.category,
        conflict_rules.severity,
        case conflict_rules.severity
            when 'blocker' then 1
            when 'warning' then 2
            when 'info' then 3
        end as severity_rank,
        conflict_rules.grain,
        conflict_rules.title as rule_title,
        conflict_rules.display_order as rule_display_order,
        evaluated.milestone_id,
        contract_milestones.milestone_title,
        evaluated.charge_id,
        evaluated.contract_id,
        coalesce(contract_milestones.company_id, finding_charges.company_id, contracts.company_id) as company_id,
        coalesce(contract_milestones.project_id, finding_charges.project_id) as project_id,
        coalesce(contract_milestones.contract_name, contracts.contract_name) as contract_name,
        coalesce(contract_milestones.company_name, companies.company_name) as company_name,
        coalesce(contract_milestones.project_name, finding_charges.project_name) as project_name,
        contract_milestones.stage,
        coalesce(contract_milestones.status_label, billing_stages.stage_label) as stage_label,
        contract_milestones.stage_priority,
        coalesce(contract_milestones.is_in_pipeline, false) as is_in_pipeline,
        contract_milestones.priority_rank as milestone_priority_rank,
        evaluated.amount,
        contract_milestones.due_date,
        evaluated.detail

    from evaluated
    inner join conflict_rules
        on evaluated.rule_code = conflict_rules.rule_code
    left join contract_milestones
        on evaluated.milestone_id = contract_milestones.milestone_id
    left join finding_charges
        on evaluated.charge_id = finding_charges.charge_id
    left join billing_stages
        on contract_milestones.stage = billing_stages.stage
    left join contracts
        on evaluated.contract_id = contracts.contract_id
    left join companies
        on contracts.company_id = companies.company_id

),

final as (

    select
        *,
        row_number() over (
            order by
                coalesce(stage_priority, 6),
                severity_rank,
                coalesce(amount, 0) desc,
                rule_display_order,
                finding_id
        ) as action_rank,
        -- A milestone (or charge) breaking two rules of one category counts once in the
        -- category's amount; a contract-level gap is its own subject.
        row_number() over (
            partition by
                category,
                coalesce(cast(milestone_id as {{ dbt.type_string() }}), charge_id, finding_id)
            order by finding_id
        ) = 1 as is_first_in_category

    from enriched

)

select * from final
order by action_rank
