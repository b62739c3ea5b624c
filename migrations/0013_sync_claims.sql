-- One row per sync subject (a customer id, or `workspace:<id>` for an orphan): the generation of
-- the newest sync that started on it. A sync takes the next generation when it starts and checks
-- it is still the newest right before each change it makes, so a sync that stopped halfway (a
-- SIGSTOPped daemon whose job another daemon took over) makes no stale change when it wakes.
CREATE TABLE IF NOT EXISTS "sync_claims" (
	"subject" text PRIMARY KEY NOT NULL,
	"generation" bigint NOT NULL,
	"at" timestamp with time zone DEFAULT now() NOT NULL
);
