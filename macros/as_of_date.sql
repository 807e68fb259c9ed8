{#- The date rules are evaluated against: dbt var `as_of_date` (YYYY-MM-DD), else the environment
    variable BILLREADY_AS_OF_DATE (what `billready refresh --as-of DATE` sets: an environment
    variable, unlike a var, keeps dbt's partial parsing), else the day the build runs. A fixed
    date makes results reproducible. Portable: a cast of a string literal, or current_date. -#}
{% macro as_of_date() -%}
    {%- set as_of = var('as_of_date', none) or runtime_env_var('BILLREADY_AS_OF_DATE') -%}
    {%- if as_of -%}
        {%- if not modules.re.match('^[0-9]{4}-[0-9]{2}-[0-9]{2}$', as_of | string) -%}
            {{ exceptions.raise_compiler_error("var as_of_date must be YYYY-MM-DD, got '" ~ as_of ~ "'") }}
        {%- endif -%}
        cast('{{ as_of }}' as date)
    {%- else -%}
        current_date
    {%- endif -%}
{%- endmacro %}
