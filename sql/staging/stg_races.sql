-- materialized: view
-- The configured races, one row per athlete each race applies to.
select athlete_id, race_date, name, priority
from raw.races
