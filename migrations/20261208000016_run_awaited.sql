-- Set by a "check now" that waits for its run to start (the API's POST …/check): the
-- run that claims the account then announces its start (NOTIFY). Other runs announce
-- nothing, because a NOTIFY serialises every committing transaction that sends one
-- behind a database-wide lock (issue 16: 50 concurrent runs each sending one cut the
-- commit rate to a third).
ALTER TABLE accounts ADD COLUMN run_awaited boolean NOT NULL DEFAULT false;
