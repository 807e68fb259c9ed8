{#- One row per (milestone, allocation rule) ever seen in history: when it was first and last seen,
    when it was resolved (the first refresh after it was last seen), and how long that took.
    A conflict that disappears and comes back counts as one episode from first sighting. -#}
with

milestone_conflicts as (

    select * from {{ ref('history_milestone_conflicts') }}

),

milestone_states as (

    select * from {{ ref('history_milestone_states') }}

),

refreshes as (

    select distinct
        refresh_id,
        refreshed_at

    from milestone_states

),

sightings as (

    select
        milestone_id,
        rule_code,
        min(refreshed_at) as first_seen_at,
        max(refreshed_at) as last_seen_at,
        max(amount) as amount

    from milestone_conflicts
    group by milestone_id, rule_code

),

resolved as (

    select
        sightings.milestone_id,
        sightings.rule_code,
        min(refreshes.refreshed_at) as resolved_at

    from sightings
    inner join refreshes
        on refreshes.refreshed_at > sightings.last_seen_at
    group by sightings.milestone_id, sightings.rule_code

),

final as (

    select
        {{ dbt.concat(["cast(sightings.milestone_id as " ~ dbt.type_string() ~ ")", "':'", "sightings.rule_code"]) }}
            as conflict_resolution_id,
        sightings.milestone_id,
        sightings.rule_code,
        sightings.amount,
        sightings.first_seen_at,
        sightings.last_seen_at,
        resolved.resolved_at,
        resolved.resolved_at is not null as is_resolved,
        {{ dbt.datediff('sightings.first_seen_at', 'resolved.resolved_at', 'second') }} / 86400.0
            as days_to_resolve

    from sightings
    left join resolved
        on sightings.milestone_id = resolved.milestone_id
        and sightings.rule_code = resolved.rule_code

)

select * from final
