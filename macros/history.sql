{#- The refresh a build belongs to: `billready refresh` sets the environment variables
    BILLREADY_REFRESH_ID and BILLREADY_REFRESHED_AT (UTC, 'YYYY-MM-DD HH:MM:SS'; environment
    variables rather than vars keep dbt's partial parsing); vars refresh_id and refreshed_at
    override them; a plain `dbt build` uses its invocation id and start time. -#}
{% macro history_refresh_id() -%}
    {{ var('refresh_id', none) or runtime_env_var('BILLREADY_REFRESH_ID') or invocation_id }}
{%- endmacro %}

{% macro history_refreshed_at() -%}
    cast('{{ var("refreshed_at", none) or runtime_env_var('BILLREADY_REFRESHED_AT') or run_started_at.strftime("%Y-%m-%d %H:%M:%S") }}' as {{ dbt.type_timestamp() }})
{%- endmacro %}
