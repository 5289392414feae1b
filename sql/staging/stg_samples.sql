-- materialized: view
-- Samples of the activities kept after de-duplication.
select s.activity_id, s.ts_utc, s.lat, s.lon, s.distance_m, s.speed_mps, s.heart_rate, s.cadence, s.altitude_m
from raw.samples as s
where s.activity_id in (select activity_id from raw.activities where duplicate_of is null)
