{#- An environment variable read when the build runs, never while dbt parses the project.

    dbt's partial parsing records every env_var() a file calls while parsing and re-parses that
    file whenever the variable's value changes. billready passes each refresh's id, time, as-of
    date and landed loads as environment variables (billready.build.dbt_env); read with env_var()
    they would re-parse every model and test that reads them on every refresh. None of them shapes
    a node (its refs, sources or config), only the SQL that runs, so they are read here at
    execution alone (`execute` is false while parsing), and an unchanged project parses nothing
    again. While parsing this returns `default`. -#}
{% macro runtime_env_var(name, default='') -%}
    {%- if execute -%}
        {{ return(env_var(name, default)) }}
    {%- else -%}
        {{ return(default) }}
    {%- endif -%}
{%- endmacro %}
