{#- The refresh a build belongs to: `billready refresh` passes vars refresh_id and refreshed_at
    (UTC, 'YYYY-MM-DD HH:MM:SS'); a plain `dbt build` uses its invocation id and start time. -#}
{% macro history_refresh_id() -%}
    {{ var('refresh_id', invocation_id) }}
{%- endmacro %}

{% macro history_refreshed_at() -%}
    cast('{{ var("refreshed_at", run_started_at.strftime("%Y-%m-%d %H:%M:%S")) }}' as {{ dbt.type_timestamp() }})
{%- endmacro %}
