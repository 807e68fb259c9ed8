{#- The signed agreement's milestones matched to PSA milestones. An agreement row matches a PSA
    milestone on contractID and title, case and surrounding spaces ignored. When two agreement
    rows of a contract have the same title that way, the higher amendmentVersion wins (then the
    first title). One row per (agreement milestone, matching PSA milestone); an agreement
    milestone no PSA milestone matches has one row with milestone_id null. -#}
with

agreement_milestones as (

    select * from {{ ref('stg_autotask__agreement_milestones') }}

),

contract_milestones as (

    select * from {{ ref('stg_autotask__contract_milestones') }}

),

keyed as (

    select
        contract_id,
        lower(trim(agreement_milestone_title)) as title_key,
        agreement_milestone_title,
        agreement_amount,
        coalesce(is_acceptance_required, false) as is_acceptance_required,
        amendment_version

    from agreement_milestones

),

ranked as (

    select
        *,
        row_number() over (
            partition by contract_id, title_key
            order by coalesce(amendment_version, -1) desc, agreement_milestone_title
        ) as title_rank

    from keyed

),

latest as (

    select * from ranked
    where title_rank = 1

),

final as (

    select
        latest.contract_id,
        latest.title_key,
        latest.agreement_milestone_title,
        latest.agreement_amount,
        latest.is_acceptance_required,
        latest.amendment_version,
        contract_milestones.milestone_id

    from latest
    left join contract_milestones
        on latest.contract_id = contract_milestones.contract_id
        and latest.title_key = lower(trim(contract_milestones.milestone_title))

)

select * from final
