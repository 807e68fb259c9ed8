{#- Grain: one row per catalogue rule, with whether it was evaluated on this warehouse's data and
    why not. Rules on PSA data alone always are; rules on optional inputs only once every input
    they need was landed. A rule that is not evaluated shows as "not evaluated", never "0 found". -#}
with

conflict_rules as (

    select * from {{ ref('conflict_rules') }}

),

rule_evaluation as (

    select * from {{ ref('int_rules__evaluation') }}

),

final as (

    select
        conflict_rules.rule_code,
        conflict_rules.category,
        conflict_rules.severity,
        conflict_rules.grain,
        conflict_rules.title,
        conflict_rules.required_input,
        conflict_rules.display_order,
        rule_evaluation.is_evaluated,
        rule_evaluation.missing_inputs,
        rule_evaluation.not_evaluated_reason

    from conflict_rules
    inner join rule_evaluation
        on conflict_rules.rule_code = rule_evaluation.rule_code

)

select * from final
