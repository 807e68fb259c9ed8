{#- An amount as text with two decimals (7500 -> '7500.00'), for a finding's detail line.
    Portable: round, a standard decimal cast and the adapter's string type; null stays null. -#}
{% macro format_amount(expression) -%}
    cast(cast(round({{ expression }}, 2) as decimal(18, 2)) as {{ dbt.type_string() }})
{%- endmacro %}
