-- materialized: view
-- One row per strength session after merging sources: the session with the more complete set
-- rows is canonical (ingest marks the other duplicate_of); a merged session takes the watch's
-- times and, if the canonical one has none, the other source's title.
with merged_from as (
    select
        duplicate_of as session_id,
        min(start_utc) filter (where source_format = 'fit') as watch_start_utc,
        max(end_utc) filter (where source_format = 'fit') as watch_end_utc,
        any_value(activity_id) filter (where activity_id is not null) as watch_activity_id,
        any_value(title) filter (where title is not null) as other_title
    from raw.strength_sessions
    where duplicate_of is not null
    group by duplicate_of
),
sessions as (
    select
        s.session_id,
        s.athlete_id,
        coalesce(s.title, m.other_title) as title,
        coalesce(m.watch_start_utc, s.start_utc) as start_utc,
        coalesce(m.watch_end_utc, s.end_utc) as end_utc,
        coalesce(s.activity_id, m.watch_activity_id) as activity_id,
        s.source_format,
        s.source_file
    from raw.strength_sessions as s
    left join merged_from as m using (session_id)
    where s.duplicate_of is null
)
select
    s.session_id,
    s.athlete_id,
    s.title,
    s.start_utc,
    s.end_utc,
    timezone(ath.timezone, s.start_utc) as start_local,
    cast(timezone(ath.timezone, s.start_utc) as date) as local_date,
    strftime(timezone(ath.timezone, s.start_utc), '%G-W%V') as iso_week,
    epoch(s.end_utc - s.start_utc) as duration_s,
    s.activity_id,
    s.source_format,
    s.source_file
from sessions as s
join raw.athletes as ath using (athlete_id)
