-- Every strength session paired with every run that starts or ends within 24 h of it.
-- gap_hours = later start - earlier end (0 when they overlap); the pair is dated on the local date
-- of whichever of the two starts later (SPEC Definitions).
with pairs as (
    select
        s.athlete_id,
        s.session_id,
        r.activity_id,
        s.start_utc as session_start_utc,
        s.end_utc as session_end_utc,
        r.start_utc as run_start_utc,
        r.end_utc as run_end_utc,
        s.local_date as session_local_date,
        r.local_date as run_local_date,
        r.start_local as run_start_local,
        s.start_local as session_start_local,
        r.is_quality as run_is_quality,
        r.title as run_title,
        r.quality_reason,
        case when s.start_utc <= r.start_utc then 'strength_first' else 'run_first' end as which_first,
        greatest(
            0,
            epoch(greatest(s.start_utc, r.start_utc)
                  - case when s.start_utc <= r.start_utc then s.end_utc else r.end_utc end) / 3600.0
        ) as gap_hours
    from strength_sessions as s
    join int_runs as r
        on r.athlete_id = s.athlete_id
        and r.start_utc < s.end_utc + interval 24 hour
        and r.end_utc > s.start_utc - interval 24 hour
    where s.activity_id is distinct from r.activity_id
)
select
    athlete_id,
    session_id,
    activity_id,
    gap_hours,
    which_first,
    run_is_quality,
    session_local_date = run_local_date as same_local_day,
    case when which_first = 'strength_first' then run_local_date else session_local_date end as local_date,
    session_start_utc,
    session_end_utc,
    run_start_utc,
    run_end_utc,
    session_start_local,
    run_start_local,
    run_title,
    quality_reason
from pairs
where gap_hours < 24
