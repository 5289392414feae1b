-- materialized: view
-- Laps of the activities kept after de-duplication, in the device's order.
select l.activity_id, l.lap_index, l.start_utc, l.elapsed_s, l.timer_s, l.distance_m, l.intensity
from raw.laps as l
where l.activity_id in (select activity_id from stg_activities)
