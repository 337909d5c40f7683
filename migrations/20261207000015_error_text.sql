-- An error as the catalogue's message id and values (JSON), beside its English wording,
-- so the accounts page words a status the scheduler wrote in the reader's language
-- (issue 15). NULL on rows written before: those show their English text.
ALTER TABLE accounts ADD COLUMN last_error_text jsonb;
ALTER TABLE fetch_runs ADD COLUMN error_text jsonb;
ALTER TABLE outbox ADD COLUMN last_error_text jsonb;
