{#- One row per (pipeline milestone, allocation rule it breaks): the findings behind the
    allocation rule cards and the reference KPIs. The allocation subset of bi_findings (category
    allocation: the four rules flagged on bi_contract_milestones). Grain: milestone_id + rule_code. -#}
with

findings as (

    select * from {{ ref('bi_findings') }}

),

allocation_findings as (

    select * from findings
    where category = 'allocation'

),

final as (

    select
        {{ dbt.concat(["cast(milestone_id as " ~ dbt.type_string() ~ ")", "':'", "rule_code"]) }}
            as milestone_conflict_id,
        milestone_id,
        rule_code,
        category,
        severity,
        stage,
        amount,
        company_name,
        project_name,
        contract_name,
        due_date

    from allocation_findings

)

select * from final
