{#- One row per contract milestone: names of its company, contract and project, billing stage,
    amount, due date, one flag per conflict rule (pipeline milestones only), conflict count and
    fixing priority. Stored in fixing order (priority_rank; milestones outside the pipeline last),
    so the report's first rows of the action list read one row group.

    Patched on DuckDB (macros/patched_through.sql, docs/architecture.md "Patched models"): when a
    refresh changed only charges, the charge rule is the one input that moved, and a build
    rewrites only the milestones whose mismatched-charge count it changed, keeping their stored
    fixing order (the rank reads stage and amount, which did not move). Otherwise a full build. -#}
{{ config(**patched_model_config('milestone_id')) }}
with

contract_milestones as (

    select * from {{ ref('stg_autotask__contract_milestones') }}

),

milestone_stages as (

    select * from {{ ref('int_contract_milestones__stages') }}

),

milestone_projects as (

    select * from {{ ref('int_contract_milestones__projects') }}

),

contracts as (

    select * from {{ ref('stg_autotask__contracts') }}

),

contract_statuses as (

    select * from {{ ref('int_contracts__statuses') }}

),

projects as (

    select * from {{ ref('stg_autotask__projects') }}

),

companies as (

    select * from {{ ref('stg_autotask__companies') }}

),

billing_codes as (

    select * from {{ ref('stg_autotask__billing_codes') }}

),

contract_reference_mismatch as (

    select * from {{ ref('int_rule_contract_reference_mismatch') }}

),

missing_allocation_code as (

    select * from {{ ref('int_rule_missing_allocation_code') }}

),

charge_contract_mismatch as (

    select * from {{ ref('int_rule_charge_contract_mismatch') }}

),

project_without_contract as (

    select * from {{ ref('int_rule_project_without_contract') }}

),

{% if is_incremental() %}
built_milestones as (

    select
        milestone_id,
        mismatched_charge_count,
        priority_rank

    from {{ this }}

),

charge_rule_changes as (

    select built_milestones.milestone_id

    from built_milestones
    inner join charge_contract_mismatch
        on built_milestones.milestone_id = charge_contract_mismatch.milestone_id
    where built_milestones.mismatched_charge_count <> charge_contract_mismatch.mismatched_charge_count

),
{% endif %}

joined as (

    select
        contract_milestones.milestone_id,
        contract_milestones.milestone_title,
        coalesce(contracts.company_id, projects.company_id) as company_id,
        contract_milestones.contract_id,
        contracts.contract_name,
        contract_statuses.status_label as contract_status_label,
        contracts.end_date as contract_end_date,
        milestone_projects.project_id,
        milestone_projects.project_association,
        projects.project_name,
        projects.project_number,
        contract_milestones.billing_code_id,
        billing_codes.billing_code_name,
        milestone_stages.status_value,
        milestone_stages.status_label,
        milestone_stages.stage,
        milestone_stages.stage_priority,
        milestone_stages.is_in_pipeline,
        contract_milestones.amount,
        contract_milestones.due_date,
        contract_milestones.created_date,
        milestone_stages.is_in_pipeline and contract_reference_mismatch.has_contract_reference_mismatch
            as has_contract_reference_mismatch,
        milestone_stages.is_in_pipeline and missing_allocation_code.has_missing_allocation_code
            as has_missing_allocation_code,
        milestone_stages.is_in_pipeline and charge_contract_mismatch.has_charge_contract_mismatch
            as has_charge_contract_mismatch,
        milestone_stages.is_in_pipeline and project_without_contract.has_project_without_contract
            as has_project_without_contract,
        contract_reference_mismatch.contract_reference_reason,
        missing_allocation_code.missing_allocation_reason,
        charge_contract_mismatch.mismatched_charge_count

    from contract_milestones
    inner join milestone_stages
        on contract_milestones.milestone_id = milestone_stages.milestone_id
    inner join milestone_projects
        on contract_milestones.milestone_id = milestone_projects.milestone_id
    inner join contract_reference_mismatch
        on contract_milestones.milestone_id = contract_reference_mismatch.milestone_id
    inner join missing_allocation_code
        on contract_milestones.milestone_id = missing_allocation_code.milestone_id
    inner join charge_contract_mismatch
        on contract_milestones.milestone_id = charge_contract_mismatch.milestone_id
    inner join project_without_contract
        on contract_milestones.milestone_id = project_without_contract.milestone_id
    left join contracts
        on contract_milestones.contract_id = contracts.contract_id
    left join contract_statuses
        on contract_milestones.contract_id = contract_statuses.contract_id
    left join projects
        on milestone_projects.project_id = projects.project_id
    left join billing_codes
        on contract_milestones.billing_code_id = billing_codes.billing_code_id
    {% if is_incremental() %}
    where contract_milestones.milestone_id in (select milestone_id from charge_rule_changes)
    {% endif %}

),

with_company as (

    select
        joined.*,
        companies.company_name

    from joined
    left join companies
        on joined.company_id = companies.company_id

),

conflicts_counted as (

    select
        *,
        (case when has_contract_reference_mismatch then 1 else 0 end)
        + (case when has_missing_allocation_code then 1 else 0 end)
        + (case when has_charge_contract_mismatch then 1 else 0 end)
        + (case when has_project_without_contract then 1 else 0 end) as conflict_count

    from with_company

),

prioritized as (

    {% if is_incremental() %}
    select
        milestone_id,
        priority_rank

    from built_milestones
    {% else %}
    {#- The fixing order, ranked on the keys alone and joined back: a window over every wide row
        costs twice as much at a million milestones. -#}
    select
        milestone_id,
        row_number() over (
            order by stage_priority, amount desc, milestone_id
        ) as priority_rank

    from conflicts_counted
    where is_in_pipeline
    {% endif %}

),

final as (

    select
        conflicts_counted.*,
        {{ as_of_date() }} as as_of_date,
        {{ dbt.datediff('conflicts_counted.due_date', as_of_date(), 'day') }} as days_past_due,
        coalesce(conflicts_counted.due_date < {{ as_of_date() }}, false) as is_overdue,
        conflicts_counted.conflict_count > 0 as has_conflict,
        prioritized.priority_rank

    from conflicts_counted
    left join prioritized
        on conflicts_counted.milestone_id = prioritized.milestone_id

)

select * from final
order by priority_rank
