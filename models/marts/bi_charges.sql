{#- One row per charge (ProjectCharges, ContractCharges and TicketCharges together; charge_id is
    unique across the three), with the project and contract it resolves to, its allocation target,
    whether it conflicts with a pipeline milestone's contract, and whether it names a contract
    service of another contract than its project's or ticket's (rule service_on_other_contract).

    Incremental on DuckDB (docs/architecture.md, "Incremental builds"): a build recomputes the
    charges int_charges__resolved wrote since this model's last build, those of a changed project
    or contract (names, company), and those whose pipeline-conflict count or service finding
    differs from the stored one; it replaces them by charge_id (delete+insert), and a post-hook
    removes the charges marked deleted. The result equals a full build. Elsewhere (Spark) a table. -#}
{{
    config(**incremental_charge_model_config(extra_post_hooks=[
        "{{ incremental_record_upstream('drop', ref('int_charges__resolved')) }}",
        "{{ incremental_record_upstream('create', ref('int_charges__resolved')) }}",
    ]))
}}
{#- Dependencies only the incremental branch names (dbt infers dependencies at parse time). -#}
-- depends_on: {{ source('autotask', '_load_log') }}
-- depends_on: {{ source('autotask', 'projects') }}
-- depends_on: {{ source('autotask', 'contracts') }}
with

{% if is_incremental() %}
{{ incremental_state_ctes() }}
{% endif %}

resolved_charges as (

    select * from {{ ref('int_charges__resolved') }}

),

charge_contract_mismatches as (

    select * from {{ ref('int_charge_contract_mismatches') }}

),

milestone_stages as (

    select * from {{ ref('int_contract_milestones__stages') }}

),

projects as (

    select * from {{ ref('stg_autotask__projects') }}

),

contracts as (

    select * from {{ ref('stg_autotask__contracts') }}

),

service_on_other_contract as (

    select * from {{ ref('int_rule_service_on_other_contract') }}

),

pipeline_conflicts as (

    select
        charge_contract_mismatches.charge_id,
        count(distinct charge_contract_mismatches.milestone_id) as conflicting_milestone_count

    from charge_contract_mismatches
    inner join milestone_stages
        on charge_contract_mismatches.milestone_id = milestone_stages.milestone_id
    where milestone_stages.is_in_pipeline
    group by charge_contract_mismatches.charge_id

),

{% if is_incremental() %}
{#- The charges to recompute. Their inputs beyond the resolved charge (its project's and
    contract's names and company, its project's pipeline milestones, the contract service rule)
    change at any refresh, so the cheap per-charge results are compared with the stored ones.
    Each large table is read once: DuckDB materializes a CTE read twice. -#}
previous_findings as (

    select
        charge_id,
        conflicting_milestone_count,
        has_service_on_other_contract

    from {{ this }}
    where conflicting_milestone_count > 0
        or has_service_on_other_contract

),

changed_projects as (

    {{ incremental_changed_ids('projects') }}

),

changed_contracts as (

    {{ incremental_changed_ids('contracts') }}

),

changed_pipeline_conflicts as (

    select coalesce(pipeline_conflicts.charge_id, previous_findings.charge_id) as charge_id
    from pipeline_conflicts
    full outer join previous_findings
        on pipeline_conflicts.charge_id = previous_findings.charge_id
    where coalesce(pipeline_conflicts.conflicting_milestone_count, 0)
        <> coalesce(previous_findings.conflicting_milestone_count, 0)

),

changed_service_findings as (

    select coalesce(service_on_other_contract.charge_id, previous_findings.charge_id) as charge_id
    from service_on_other_contract
    full outer join previous_findings
        on service_on_other_contract.charge_id = previous_findings.charge_id
    where service_on_other_contract.charge_id is null and previous_findings.has_service_on_other_contract
        or service_on_other_contract.charge_id is not null and not coalesce(previous_findings.has_service_on_other_contract, false)

),

changed_findings as (

    select charge_id from changed_pipeline_conflicts
    union
    select charge_id from changed_service_findings

),
{% endif %}

charges as (

    select * from resolved_charges
    {% if is_incremental() -%}
    where
        -- resolved anew since this model's last build (every charge when the state is missing)
        {{ incremental_upstream_changed('resolved_charges') }}
        or (select processed_loads from incremental_state) = 0
        -- on a project or contract whose record changed
        or project_id in (select id from changed_projects)
        or contract_id in (select id from changed_contracts)
        -- conflicting with another number of pipeline milestones, or (no longer) found by
        -- service_on_other_contract
        or charge_id in (select charge_id from changed_findings)
    {%- endif %}

),

final as (

    select
        charges.charge_id,
        charges.charge_source,
        charges.source_charge_id,
        charges.charge_name,
        charges.billing_code_id,
        charges.billable_amount,
        charges.purchased_date,
        charges.contract_service_id,
        charges.ticket_id,
        charges.project_id,
        projects.project_name,
        charges.contract_id,
        contracts.contract_name,
        coalesce(projects.company_id, contracts.company_id) as company_id,
        charges.contract_resolved_from,
        charges.allocation_target,
        coalesce(pipeline_conflicts.conflicting_milestone_count, 0) > 0 as is_contract_conflict,
        coalesce(pipeline_conflicts.conflicting_milestone_count, 0) as conflicting_milestone_count,
        service_on_other_contract.charge_id is not null as has_service_on_other_contract,
        '{{ history_refresh_id() }}' as _refresh_id

    from charges
    left join pipeline_conflicts
        on charges.charge_id = pipeline_conflicts.charge_id
    left join projects
        on charges.project_id = projects.project_id
    left join contracts
        on charges.contract_id = contracts.contract_id
    left join service_on_other_contract
        on charges.charge_id = service_on_other_contract.charge_id

)

select * from final
