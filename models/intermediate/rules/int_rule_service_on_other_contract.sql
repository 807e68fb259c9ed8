{#- Rule service_on_other_contract (charge): a project or ticket charge whose contractServiceID
    names a contract service of another contract than its project's (project charges) or its
    ticket's (ticket charges) contract, both known. One row per finding (charge). -#}
with

charges as (

    select * from {{ ref('int_charges__resolved') }}

),

contract_services as (

    select * from {{ ref('stg_autotask__contract_services') }}

),

projects as (

    select * from {{ ref('stg_autotask__projects') }}

),

tickets as (

    select * from {{ ref('stg_autotask__tickets') }}

),

contracts as (

    select * from {{ ref('stg_autotask__contracts') }}

),

charges_with_contracts as (

    select
        charges.charge_id,
        charges.charge_source,
        charges.billable_amount,
        contract_services.contract_id as service_contract_id,
        case
            when charges.charge_source = 'project' then projects.contract_id
            when charges.charge_source = 'ticket' then tickets.contract_id
        end as own_contract_id

    from charges
    inner join contract_services
        on charges.contract_service_id = contract_services.contract_service_id
    left join projects
        on charges.charge_source = 'project'
        and charges.project_id = projects.project_id
    left join tickets
        on charges.charge_source = 'ticket'
        and charges.ticket_id = tickets.ticket_id
    where charges.charge_source in ('project', 'ticket')

),

mismatched as (

    select * from charges_with_contracts
    where service_contract_id is not null
        and own_contract_id is not null
        and service_contract_id <> own_contract_id

),

final as (

    select
        'service_on_other_contract' as rule_code,
        mismatched.charge_id as finding_key,
        cast(null as {{ dbt.type_bigint() }}) as milestone_id,
        mismatched.own_contract_id as contract_id,
        mismatched.charge_id,
        cast(mismatched.billable_amount as {{ dbt.type_numeric() }}) as amount,
        {{ dbt.concat([
            "mismatched.charge_source",
            "' charge on a service of contract '",
            "coalesce(service_contracts.contract_name, cast(mismatched.service_contract_id as " ~ dbt.type_string() ~ "))",
        ]) }} as detail

    from mismatched
    left join contracts as service_contracts
        on mismatched.service_contract_id = service_contracts.contract_id

)

select * from final
