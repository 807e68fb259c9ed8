{#- The rule catalogue, the rule models and the lists bi_findings unions must agree, so that
    adding a rule is one model, one catalogue row and its tests (docs/rules.md, "Adding a rule").
    Fails with one row per problem:
    - a catalogue row (seeds/conflict_rules.csv) without a model int_rule_<rule_code>;
    - a model int_rule_<rule_code> without a catalogue row;
    - a model that is in neither var billready_allocation_rules nor billready_finding_rules
      (bi_findings would not union it);
    - a catalogue row in category allocation that is not in billready_allocation_rules, or the
      reverse (only the four allocation rules feed the reference KPIs);
    - a required_input naming an input seeds/optional_inputs.csv does not know. -#}
{%- set allocation_rules = var('billready_allocation_rules') -%}
{%- set finding_rules = var('billready_finding_rules') -%}
{%- set rule_models = [] -%}
{%- if execute -%}
    {%- for node in graph.nodes.values() -%}
        {%- if node.resource_type == 'model' and node.package_name == project_name and node.name.startswith('int_rule_') -%}
            {%- do rule_models.append(node.name[9:]) -%}
        {%- endif -%}
    {%- endfor -%}
{%- endif -%}
with

conflict_rules as (

    select * from {{ ref('conflict_rules') }}

),

rule_evaluation as (

    select * from {{ ref('int_rules__evaluation') }}

),

rule_models as (
    {% for rule_code in rule_models | sort %}
    select '{{ rule_code }}' as rule_code
    union all
    {%- endfor %}
    select cast(null as {{ dbt.type_string() }}) as rule_code
    where 1 = 0

),

wired_rules as (
    {% for rule_code in allocation_rules %}
    select '{{ rule_code }}' as rule_code, true as is_allocation_rule
    union all
    {%- endfor %}
    {% for rule_code in finding_rules %}
    select '{{ rule_code }}' as rule_code, false as is_allocation_rule
    union all
    {%- endfor %}
    select cast(null as {{ dbt.type_string() }}) as rule_code, false as is_allocation_rule
    where 1 = 0

),

catalogue_without_model as (

    select
        conflict_rules.rule_code,
        'catalogue row has no model int_rule_<rule_code>' as problem

    from conflict_rules
    left join rule_models
        on conflict_rules.rule_code = rule_models.rule_code
    where rule_models.rule_code is null

),

model_without_catalogue as (

    select
        rule_models.rule_code,
        'model int_rule_<rule_code> has no row in seeds/conflict_rules.csv' as problem

    from rule_models
    left join conflict_rules
        on rule_models.rule_code = conflict_rules.rule_code
    where conflict_rules.rule_code is null

),

model_not_wired as (

    select
        rule_models.rule_code,
        'model is in neither var billready_allocation_rules nor billready_finding_rules' as problem

    from rule_models
    left join wired_rules
        on rule_models.rule_code = wired_rules.rule_code
    where wired_rules.rule_code is null

),

allocation_category_mismatch as (

    select
        conflict_rules.rule_code,
        'category allocation if and only if listed in var billready_allocation_rules' as problem

    from conflict_rules
    inner join wired_rules
        on conflict_rules.rule_code = wired_rules.rule_code
    where (conflict_rules.category = 'allocation') <> wired_rules.is_allocation_rule

),

unknown_inputs as (

    select
        rule_code,
        'required_input names an input seeds/optional_inputs.csv does not list' as problem

    from rule_evaluation
    where known_input_count <> required_input_count

),

final as (

    select * from catalogue_without_model
    union all
    select * from model_without_catalogue
    union all
    select * from model_not_wired
    union all
    select * from allocation_category_mismatch
    union all
    select * from unknown_inputs

)

select * from final
