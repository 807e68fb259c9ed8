{#- One row per day: the time spine MetricFlow needs for time dimensions (due month trends). -#}
{{ config(materialized='table') }}

with

days as (

    {{ dbt.date_spine('day', "cast('2015-01-01' as date)", "cast('2035-12-31' as date)") }}

),

final as (

    select cast(date_day as date) as date_day

    from days

)

select * from final
