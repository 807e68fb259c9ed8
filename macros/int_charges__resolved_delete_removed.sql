{#- Post-hook of int_charges__resolved (DuckDB, incremental): remove the charges whose record was
    marked deleted since the last build. delete+insert replaces the charges it recomputes, but a
    deleted charge is not among them (staging leaves it out), so it is removed here. Harmless on a
    full build (nothing deleted is in a fresh table). Runs before the state is recorded, so it sees
    the same changes as the model did. -#}
{% macro int_charges__resolved_delete_removed() -%}
    delete from {{ this }}
    where charge_id in (
        with

        incremental_state as (

            {{ incremental_state_select() }}

        ),

        incremental_new_loads as (

            {{ incremental_new_loads_select() }}

        )

        {% for source_name, prefix in [('project_charges', 'project'), ('contract_charges', 'contract'), ('ticket_charges', 'ticket')] -%}
        {% if not loop.first %}union all{% endif %}
        select {{ dbt.concat(["'" ~ prefix ~ "-'", dbt.cast("r.id", dbt.type_string())]) }}
        from {{ source('autotask', source_name) }} as r
        where {{ incremental_changed('r', deleted_only=true) }}
        {% endfor %}
    )
{%- endmacro %}
