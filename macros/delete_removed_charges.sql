{#- Post-hook of the incremental charge models (int_charges__resolved, bi_charges; DuckDB): remove
    the charges whose record was marked deleted since the model's last build. delete+insert
    replaces the charges a build recomputes, but a deleted charge is not among them (staging leaves
    it out), so it is removed here. Harmless on a full build (nothing deleted is in a fresh table).
    Runs before the model's state is recorded, so it sees the same changes as the model did. -#}
{% macro delete_removed_charges() -%}
    delete from {{ this }}
    where charge_id in (
        with

        {{ incremental_state_ctes() }}

        removed as (
            {% for source_name, prefix in [('project_charges', 'project'), ('contract_charges', 'contract'), ('ticket_charges', 'ticket')] -%}
            {% if not loop.first %}union all{% endif %}
            select {{ dbt.concat(["'" ~ prefix ~ "-'", dbt.cast("r.id", dbt.type_string())]) }} as charge_id
            from {{ source('autotask', source_name) }} as r
            where {{ incremental_changed('r', deleted_only=true) }}
            {% endfor %}
        )

        select charge_id from removed
    )
{%- endmacro %}
