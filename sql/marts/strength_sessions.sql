-- One row per strength session after merging sources, with what makes it a qualifying session
-- (SPEC Definitions): it lasts >= min_session_minutes, has >= min_working_sets working sets whose
-- pattern is not mobility or cardio, and >= 1 lower-body working set. why_not names the first
-- failing test in the order mobility_only, no_lower_body, too_few_sets, too_short.
-- session_rpe: the mean RPE of the working sets that carry one (no source logs a session RPE);
-- srpe_load = session_rpe x minutes (Foster 2001), null without RPE; plyo_contacts = reps of the
-- plyometric working sets, x2 for unilateral ones (one contact per leg per rep).
with set_counts as (
    select
        session_id,
        count(*) as total_sets,
        count(*) filter (where set_type <> 'warmup') as working_sets,
        count(*) filter (where set_type <> 'warmup' and pattern not in ('mobility', 'cardio')) as strength_sets,
        count(*) filter (where set_type <> 'warmup' and is_lower_body) as lower_body_sets,
        bool_and(pattern in ('mobility', 'cardio')) as mobility_only,
        avg(rpe) filter (where set_type <> 'warmup') as session_rpe,
        coalesce(sum(reps * case when is_unilateral then 2 else 1 end)
                 filter (where set_type <> 'warmup' and is_plyometric), 0) as plyo_contacts
    from int_strength_sets
    group by session_id
),
judged as (
    select
        s.*,
        coalesce(c.total_sets, 0) as total_sets,
        coalesce(c.working_sets, 0) as working_sets,
        coalesce(c.lower_body_sets, 0) as lower_body_sets,
        c.session_rpe,
        coalesce(c.plyo_contacts, 0) as plyo_contacts,
        case
            when c.mobility_only then 'mobility_only'
            when coalesce(c.lower_body_sets, 0) = 0 then 'no_lower_body'
            when coalesce(c.strength_sets, 0) < r.min_working_sets then 'too_few_sets'
            when s.duration_s < r.min_session_minutes * 60 then 'too_short'
        end as why_not
    from stg_strength_sessions as s
    left join set_counts as c using (session_id)
    cross join stg_rules as r
)
select
    session_id,
    athlete_id,
    title,
    start_utc,
    end_utc,
    start_local,
    local_date,
    iso_week,
    duration_s,
    working_sets,
    lower_body_sets,
    why_not is null as qualifies,
    why_not,
    session_rpe,
    session_rpe * duration_s / 60.0 as srpe_load,
    plyo_contacts,
    total_sets,
    activity_id,
    source_format,
    source_file
from judged
