{#- Landing for Spark: `billready build --target spark` exports raw_autotask to Parquet, one
    directory per table under $BILLREADY_SPARK_RAW_DIR (the tables it wrote are listed in
    $BILLREADY_SPARK_RAW_TABLES), and this on-run-start hook (re)registers every `autotask` source
    among them as a table over its directory, so the sources resolve unchanged. No-op on other
    adapters, and on Spark when the variables are unset (a cluster whose raw tables are landed by
    other means). -#}
{% macro register_raw_sources() %}
    {{ return(adapter.dispatch('register_raw_sources', 'billready')()) }}
{% endmacro %}

{% macro default__register_raw_sources() %}
{% endmacro %}

{% macro spark__register_raw_sources() %}
    {%- set raw_dir = env_var('BILLREADY_SPARK_RAW_DIR', '') -%}
    {%- set exported = env_var('BILLREADY_SPARK_RAW_TABLES', '').split(',') -%}
    {%- if execute and raw_dir -%}
        {%- set schemas = [] -%}
        {%- set registered = [] -%}
        {%- for source in graph.sources.values()
            if source.source_name == 'autotask' and source.identifier in exported -%}
            {%- if source.schema not in schemas -%}
                {%- do run_query('create schema if not exists ' ~ adapter.quote(source.schema)) -%}
                {%- do schemas.append(source.schema) -%}
            {%- endif -%}
            {%- set relation = adapter.quote(source.schema) ~ '.' ~ adapter.quote(source.identifier) -%}
            {%- do run_query('drop table if exists ' ~ relation) -%}
            {%- set location = (raw_dir ~ '/' ~ source.identifier) | replace("\\", "\\\\") | replace("'", "\\'") -%}
            {%- do run_query('create table ' ~ relation ~ " using parquet location '" ~ location ~ "'") -%}
            {%- do registered.append(source.identifier) -%}
        {%- endfor -%}
        {{ log('registered ' ~ registered | length ~ ' raw tables over ' ~ raw_dir) }}
    {%- endif -%}
{% endmacro %}
