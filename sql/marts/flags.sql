-- materialized: view
-- What the rules found at the last build (`runlift build` replaces internal.rule_flags).
select athlete_id, rule, severity, date, week, message, evidence
from internal.rule_flags
