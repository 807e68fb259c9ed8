{#- Patched models (docs/architecture.md, "Patched models").

    A model with `meta.patched_through: [<parent>, ...]` is incremental on DuckDB and, in a refresh
    whose selective build (billready.refresh, "Selective builds") changed it only through those
    parents, rewrites only the rows they change (its `is_incremental()` branch); any other build
    rebuilds it in full, like a table. The model's SQL says which rows a patch rewrites; this
    file decides when a patch is allowed:

    * billready's refresh allows patches (BILLREADY_PATCH_ALLOWED = 1) only in a selective build
      whose as-of date is the published build's: the stored rows were built by the same project,
      on the same date, from the same data but for what this build selected;
    * a parent model that this build selected may have changed; one it did not select holds what
      the stored rows were built from. So every direct parent but the `patched_through` ones must
      be unselected (dbt's `selected_resources`), and none may be a source, whose change selects
      its children without selecting the source itself.

    dbt asks should_full_refresh() in its incremental materialization and in is_incremental(); this
    override adds the rule above for models carrying `meta.patched_through` and answers as dbt's
    own for every other model. -#}
{% macro should_full_refresh() %}
    {%- set config_full_refresh = config.get('full_refresh') -%}
    {%- if config_full_refresh is none -%}
        {%- set config_full_refresh = flags.FULL_REFRESH -%}
    {%- endif -%}
    {%- if not config_full_refresh and patched_through_parents() -%}
        {%- set config_full_refresh = not patch_allowed() -%}
    {%- endif -%}
    {%- do return(config_full_refresh) -%}
{% endmacro %}

{#- The parent models a patch may follow (meta.patched_through), none for other models. -#}
{% macro patched_through_parents() -%}
    {%- set meta = config.get('meta') or {} -%}
    {{ return(meta.get('patched_through') or []) }}
{%- endmacro %}

{% macro patch_allowed() -%}
    {%- if runtime_env_var('BILLREADY_PATCH_ALLOWED') != '1' -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set through = patched_through_parents() -%}
    {%- for parent in model.depends_on.nodes -%}
        {%- if parent.startswith('source.') -%}
            {{ return(false) }}
        {%- elif parent.split('.')[-1] not in through and parent in selected_resources -%}
            {{ return(false) }}
        {%- endif -%}
    {%- endfor -%}
    {{ return(true) }}
{%- endmacro %}

{#- The config of a patched model: incremental by `unique_key` (delete+insert) on DuckDB, a table
    elsewhere. -#}
{% macro patched_model_config(unique_key) -%}
    {%- set incremental = billready_incremental_enabled() -%}
    {{ return({
        'materialized': 'incremental' if incremental else 'table',
        'incremental_strategy': 'delete+insert' if incremental else none,
        'unique_key': unique_key if incremental else none,
    }) }}
{%- endmacro %}
