-- Bots that answer: what each bot message was (answer, no answer, declined, failed), for gaps,
-- handoff decisions and analytics.
ALTER TABLE messages ADD COLUMN meta jsonb NOT NULL DEFAULT '{}';
CREATE INDEX messages_bot_outcome_idx ON messages ((meta ->> 'outcome')) WHERE sender_type = 'bot';
CREATE INDEX feedback_rating_idx ON feedback (rating, created_at);
CREATE INDEX llm_usage_bot_idx ON llm_usage (bot_id, created_at);
