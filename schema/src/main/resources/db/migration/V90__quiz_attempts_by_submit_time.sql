-- The leaderboard repair pass (LeaderboardRepair) reads the attempts submitted since its watermark.
CREATE INDEX quiz_attempts_submitted ON quiz_attempts (submitted_at, id) WHERE submitted_at IS NOT NULL;
