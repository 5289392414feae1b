-- Every strength session paired with every run whose gap to it is under 24 h (SPEC Definitions),
-- or under quality_lead_hours / long_run_gap_hours when those are configured longer, so the rules
-- that read them see every pair they judge.
-- gap_hours = later start - earlier end (0 when they overlap); the pair is dated on the local date
-- of whichever of the two starts later. A run of at most warmup_max_minutes whose gap to the session
-- is at most warmup_window_minutes is its warm-up or cool-down (is_warmup): no spacing rule pairs them.
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
        s.lower_body_sets,
        r.is_quality as run_is_quality,
        r.is_long as run_is_long,
        r.minutes as run_minutes,
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
        and r.start_utc < s.end_utc + interval 7 day
        and r.end_utc > s.start_utc - interval 7 day
    where s.activity_id is distinct from r.activity_id
)
select
    p.athlete_id,
    p.session_id,
    p.activity_id,
    p.gap_hours,
    p.which_first,
    p.run_is_quality,
    p.run_is_long,
    p.session_local_date = p.run_local_date as same_local_day,
    p.run_minutes <= r.warmup_max_minutes and p.gap_hours * 60 <= r.warmup_window_minutes as is_warmup,
    p.lower_body_sets > 0 as session_has_lower_body,
    case when p.which_first = 'strength_first' then p.run_local_date else p.session_local_date end as local_date,
    p.session_start_utc,
    p.session_end_utc,
    p.run_start_utc,
    p.run_end_utc,
    p.session_start_local,
    p.run_start_local,
    p.run_minutes,
    p.run_title,
    p.quality_reason
from pairs as p
cross join stg_rules as r
where p.gap_hours < greatest(24, r.quality_lead_hours, r.long_run_gap_hours)
