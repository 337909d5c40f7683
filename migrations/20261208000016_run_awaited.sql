-- Set by a "check now" that waits for its run to start (the API's POST …/check): the
-- run that claims the account then announces its start (NOTIFY). Other runs announce
-- nothing, because a NOTIFY serialises every committing transaction that sends one
-- behind a database-wide lock (issue 16: 50 concurrent runs each sending one cut the
-- commit rate to a third).
ALTER TABLE accounts ADD COLUMN run_awaited boolean NOT NULL DEFAULT false;

-- When "check now" was last asked. A check asked while a run is under way is answered by
-- another run right after it (the run may have listed the mailbox before the new mail
-- arrived): the end of a run claimed before the request leaves the account due.
ALTER TABLE accounts ADD COLUMN check_requested_at timestamptz;
