{#- One row per milestone history saw complete or approved: the first refresh that saw it so, the
    date its BillingItems were first posted, and the completion-to-posting cycle time in days. -#}
with

milestone_states as (

    select * from {{ ref('history_milestone_states') }}

),

billing_items as (

    select * from {{ ref('stg_autotask__billing_items') }}

),

first_ready as (

    select
        milestone_id,
        min(refreshed_at) as first_ready_at

    from milestone_states
    where stage in ('complete', 'approved')
    group by milestone_id

),

first_posted as (

    select
        milestone_id,
        min(posted_date) as posted_date

    from billing_items
    where milestone_id is not null
    group by milestone_id

),

final as (

    select
        first_ready.milestone_id,
        first_ready.first_ready_at,
        first_posted.posted_date,
        first_posted.posted_date is not null as is_posted,
        {{ dbt.datediff('cast(first_ready.first_ready_at as date)', 'first_posted.posted_date', 'day') }}
            as cycle_days

    from first_ready
    left join first_posted
        on first_ready.milestone_id = first_posted.milestone_id

)

select * from final
