{#- One row per ProjectCharge, ContractCharge and TicketCharge, with the project and contract each
    resolves to and its allocation target.
    Project: ProjectCharges.projectID, or the ticket's projectID.
    Contract: ContractCharges.contractID; else the contract of the charge's contract service;
    else the contract of the charge's project (project charges) or ticket (ticket charges).
    Allocation: contract when a contract resolves, else project when a project does, else unallocated.

    Incremental on DuckDB (docs/architecture.md, "Incremental builds"): a build recomputes only the
    charges whose own record changed since the last build, or whose project (project charges),
    ticket (ticket charges) or contract service changed, and replaces them by charge_id
    (delete+insert); a post-hook removes the charges marked deleted; changes are found by
    macros/incremental_changes.sql. The result equals a full build. Elsewhere (Spark) a table. -#}
{{ config(**incremental_charge_model_config()) }}
{#- Dependencies only the incremental branch names (dbt infers dependencies at parse time). -#}
-- depends_on: {{ source('autotask', '_load_log') }}
-- depends_on: {{ source('autotask', 'project_charges') }}
-- depends_on: {{ source('autotask', 'contract_charges') }}
-- depends_on: {{ source('autotask', 'ticket_charges') }}
-- depends_on: {{ source('autotask', 'projects') }}
-- depends_on: {{ source('autotask', 'tickets') }}
-- depends_on: {{ source('autotask', 'contract_services') }}
with

{% if is_incremental() %}
{#- The charges to recompute: those whose own record changed (landed or marked deleted), and
    those (as last built) whose project, ticket or contract service changed. -#}
{{ incremental_state_ctes() }}

changed_projects as (

    {{ incremental_changed_ids('projects') }}

),

changed_tickets as (

    {{ incremental_changed_ids('tickets') }}

),

changed_contract_services as (

    {{ incremental_changed_ids('contract_services') }}

),

affected_project_charges as (

    {{ incremental_changed_ids('project_charges') }}
    union
    select source_charge_id as id from {{ this }}
    where charge_source = 'project'
        and (
            project_id in (select id from changed_projects)
            or contract_service_id in (select id from changed_contract_services)
        )

),

affected_contract_charges as (

    {{ incremental_changed_ids('contract_charges') }}
    union
    select source_charge_id as id from {{ this }}
    where charge_source = 'contract'
        and contract_service_id in (select id from changed_contract_services)

),

affected_ticket_charges as (

    {{ incremental_changed_ids('ticket_charges') }}
    union
    select source_charge_id as id from {{ this }}
    where charge_source = 'ticket'
        and (
            ticket_id in (select id from changed_tickets)
            or contract_service_id in (select id from changed_contract_services)
        )

),
{% endif %}

project_charges as (

    select * from {{ ref('stg_autotask__project_charges') }}
    {% if is_incremental() -%}
    where project_charge_id in (select id from affected_project_charges)
    {%- endif %}

),

contract_charges as (

    select * from {{ ref('stg_autotask__contract_charges') }}
    {% if is_incremental() -%}
    where contract_charge_id in (select id from affected_contract_charges)
    {%- endif %}

),

ticket_charges as (

    select * from {{ ref('stg_autotask__ticket_charges') }}
    {% if is_incremental() -%}
    where ticket_charge_id in (select id from affected_ticket_charges)
    {%- endif %}

),

tickets as (

    select * from {{ ref('stg_autotask__tickets') }}

),

projects as (

    select * from {{ ref('stg_autotask__projects') }}

),

contract_services as (

    select * from {{ ref('stg_autotask__contract_services') }}

),

project_charges_resolved as (

    select
        {{ dbt.concat(["'project-'", dbt.cast("project_charges.project_charge_id", dbt.type_string())]) }} as charge_id,
        'project' as charge_source,
        project_charges.project_charge_id as source_charge_id,
        project_charges.charge_name,
        project_charges.billing_code_id,
        project_charges.billable_amount,
        project_charges.purchased_date,
        project_charges.contract_service_id,
        cast(null as {{ dbt.type_bigint() }}) as ticket_id,
        project_charges.project_id,
        cast(null as {{ dbt.type_bigint() }}) as direct_contract_id,
        projects.contract_id as parent_contract_id

    from project_charges
    left join projects
        on project_charges.project_id = projects.project_id

),

contract_charges_resolved as (

    select
        {{ dbt.concat(["'contract-'", dbt.cast("contract_charges.contract_charge_id", dbt.type_string())]) }} as charge_id,
        'contract' as charge_source,
        contract_charges.contract_charge_id as source_charge_id,
        contract_charges.charge_name,
        contract_charges.billing_code_id,
        contract_charges.billable_amount,
        contract_charges.purchased_date,
        contract_charges.contract_service_id,
        cast(null as {{ dbt.type_bigint() }}) as ticket_id,
        cast(null as {{ dbt.type_bigint() }}) as project_id,
        contract_charges.contract_id as direct_contract_id,
        cast(null as {{ dbt.type_bigint() }}) as parent_contract_id

    from contract_charges

),

ticket_charges_resolved as (

    select
        {{ dbt.concat(["'ticket-'", dbt.cast("ticket_charges.ticket_charge_id", dbt.type_string())]) }} as charge_id,
        'ticket' as charge_source,
        ticket_charges.ticket_charge_id as source_charge_id,
        ticket_charges.charge_name,
        ticket_charges.billing_code_id,
        ticket_charges.billable_amount,
        ticket_charges.purchased_date,
        ticket_charges.contract_service_id,
        ticket_charges.ticket_id,
        tickets.project_id,
        cast(null as {{ dbt.type_bigint() }}) as direct_contract_id,
        tickets.contract_id as parent_contract_id

    from ticket_charges
    left join tickets
        on ticket_charges.ticket_id = tickets.ticket_id

),

unioned as (

    select * from project_charges_resolved
    union all
    select * from contract_charges_resolved
    union all
    select * from ticket_charges_resolved

),

contract_resolved as (

    select
        unioned.charge_id,
        unioned.charge_source,
        unioned.source_charge_id,
        unioned.charge_name,
        unioned.billing_code_id,
        unioned.billable_amount,
        unioned.purchased_date,
        unioned.contract_service_id,
        unioned.ticket_id,
        unioned.project_id,
        coalesce(
            unioned.direct_contract_id,
            contract_services.contract_id,
            unioned.parent_contract_id
        ) as contract_id,
        case
            when unioned.direct_contract_id is not null then 'charge'
            when contract_services.contract_id is not null then 'contract_service'
            when unioned.parent_contract_id is not null then unioned.charge_source
        end as contract_resolved_from

    from unioned
    left join contract_services
        on unioned.contract_service_id = contract_services.contract_service_id

),

final as (

    select
        *,
        case
            when contract_id is not null then 'contract'
            when project_id is not null then 'project'
            else 'unallocated'
        end as allocation_target,
        '{{ history_refresh_id() }}' as _refresh_id

    from contract_resolved

)

select * from final
