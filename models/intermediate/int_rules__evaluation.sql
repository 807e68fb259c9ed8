{#- Whether each catalogue rule is evaluated. A rule on PSA data alone (empty required_input)
    always is; a rule needing optional inputs (required_input, a pipe list of seeds/optional_inputs
    names) is evaluated only when every one of them was landed: ingest's _load_log has a row for
    it. Absent input means "not evaluated", never "0 found". -#}
with

conflict_rules as (

    select * from {{ ref('conflict_rules') }}

),

optional_inputs as (

    select * from {{ ref('optional_inputs') }}

),

load_log as (

    select * from {{ ref('stg_autotask__load_log') }}

),

landed_entities as (

    select
        entity_name,
        max(loaded_at) as last_loaded_at

    from load_log
    group by entity_name

),

required_input_counts as (

    select
        rule_code,
        case
            when required_input is null or trim(required_input) = '' then 0
            else {{ dbt.length('required_input') }}
                - {{ dbt.length(dbt.replace('required_input', "'|'", "''")) }} + 1
        end as required_input_count

    from conflict_rules

),

rule_inputs as (

    select
        conflict_rules.rule_code,
        optional_inputs.input_name,
        landed_entities.entity_name is not null as is_landed

    from conflict_rules
    inner join optional_inputs
        on {{ dbt.concat(["'|'", "conflict_rules.required_input", "'|'"]) }}
            like {{ dbt.concat(["'%|'", "optional_inputs.input_name", "'|%'"]) }}
    left join landed_entities
        on optional_inputs.input_name = landed_entities.entity_name

),

input_status as (

    select
        rule_code,
        count(*) as known_input_count,
        sum(case when is_landed then 0 else 1 end) as missing_input_count

    from rule_inputs
    group by rule_code

),

missing_ranked as (

    select
        rule_code,
        input_name,
        row_number() over (partition by rule_code order by input_name) as input_position

    from rule_inputs
    where not is_landed

),

{#- The missing inputs' names in order, comma separated: a pivot of the first eight positions
    (a rule needs at most as many inputs as seeds/optional_inputs.csv lists), portable where
    listagg's order is not. -#}
missing_inputs as (

    {%- set parts = ["max(case when input_position = 1 then input_name end)"] %}
    {%- for position in range(2, 9) %}
        {%- do parts.append(
            "coalesce(max(case when input_position = " ~ position ~ " then "
            ~ dbt.concat(["', '", "input_name"]) ~ " end), '')"
        ) %}
    {%- endfor %}
    select
        rule_code,
        {{ dbt.concat(parts) }} as missing_inputs

    from missing_ranked
    group by rule_code

),

final as (

    select
        required_input_counts.rule_code,
        required_input_counts.required_input_count,
        coalesce(input_status.known_input_count, 0) as known_input_count,
        missing_inputs.missing_inputs,
        coalesce(input_status.known_input_count, 0) = required_input_counts.required_input_count
            and coalesce(input_status.missing_input_count, 0) = 0 as is_evaluated,
        case
            when coalesce(input_status.known_input_count, 0) <> required_input_counts.required_input_count
                then 'the rule names an input that is not in seeds/optional_inputs.csv'
            when coalesce(input_status.missing_input_count, 0) > 0
                then {{ dbt.concat(["'not landed: '", "missing_inputs.missing_inputs"]) }}
        end as not_evaluated_reason

    from required_input_counts
    left join input_status
        on required_input_counts.rule_code = input_status.rule_code
    left join missing_inputs
        on required_input_counts.rule_code = missing_inputs.rule_code

)

select * from final
