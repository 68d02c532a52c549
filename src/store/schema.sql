-- schema.sql — the lineagefs registry schema, version 1.
--
-- Standard SQL (the PostgreSQL backend will read the same tables).  Every
-- table uses AUTOINCREMENT keys so that a row id is never reused: the mount
-- builds inode numbers from them.  Times are seconds since the epoch (UTC).
-- Compiled into the engine by meson (schema.sql -> schema.h).

CREATE TABLE meta (
	key   TEXT PRIMARY KEY,
	value TEXT NOT NULL
);

CREATE TABLE buckets (
	id          INTEGER PRIMARY KEY AUTOINCREMENT,
	name        TEXT NOT NULL UNIQUE,
	description TEXT NOT NULL DEFAULT '',
	created     INTEGER NOT NULL,
	mtime       INTEGER NOT NULL,
	uid         INTEGER NOT NULL,
	gid         INTEGER NOT NULL,
	mode        INTEGER NOT NULL
);

-- Labels of buckets (owner_kind 0) and of builds (owner_kind 1).
CREATE TABLE labels (
	id         INTEGER PRIMARY KEY AUTOINCREMENT,
	owner_kind INTEGER NOT NULL,
	owner_id   INTEGER NOT NULL,
	key        TEXT NOT NULL,
	value      TEXT NOT NULL,
	mtime      INTEGER NOT NULL,
	UNIQUE (owner_kind, owner_id, key)
);

CREATE TABLE iterations (
	id          INTEGER PRIMARY KEY AUTOINCREMENT,
	bucket_id   INTEGER NOT NULL REFERENCES buckets (id),
	fingerprint TEXT NOT NULL,
	ulid        TEXT NOT NULL UNIQUE,
	version     INTEGER NOT NULL DEFAULT 0,   -- 0 while incomplete
	created     INTEGER NOT NULL,
	completed   INTEGER NOT NULL DEFAULT 0,   -- 0 while incomplete
	mtime       INTEGER NOT NULL,
	UNIQUE (bucket_id, fingerprint)
);
CREATE INDEX iterations_version ON iterations (bucket_id, version);

CREATE TABLE builds (
	id           INTEGER PRIMARY KEY AUTOINCREMENT,
	iteration_id INTEGER NOT NULL REFERENCES iterations (id) ON DELETE CASCADE,
	name         TEXT NOT NULL,
	platform     TEXT NOT NULL DEFAULT '',
	source       TEXT NOT NULL DEFAULT '',
	created      INTEGER NOT NULL,
	mtime        INTEGER NOT NULL,
	UNIQUE (iteration_id, name)
);

CREATE TABLE artifacts (
	id          INTEGER PRIMARY KEY AUTOINCREMENT,
	build_id    INTEGER NOT NULL REFERENCES builds (id) ON DELETE CASCADE,
	region      TEXT NOT NULL,
	external_id TEXT NOT NULL DEFAULT '',
	mtime       INTEGER NOT NULL,
	UNIQUE (build_id, region)
);
CREATE INDEX artifacts_external ON artifacts (external_id);

-- User channels; `latest` is computed, never stored.  A channel without an
-- iteration is deleted, so every row points somewhere.
CREATE TABLE channels (
	id           INTEGER PRIMARY KEY AUTOINCREMENT,
	bucket_id    INTEGER NOT NULL REFERENCES buckets (id),
	name         TEXT NOT NULL,
	iteration_id INTEGER NOT NULL REFERENCES iterations (id),
	mtime        INTEGER NOT NULL,
	UNIQUE (bucket_id, name)
);
CREATE INDEX channels_iteration ON channels (iteration_id);

-- Assignment history of channels, by name: it outlives a channel that is
-- deleted and created again, and drives rollback.
CREATE TABLE assignments (
	id           INTEGER PRIMARY KEY AUTOINCREMENT,
	bucket_id    INTEGER NOT NULL,
	channel      TEXT NOT NULL,
	iteration_id INTEGER,                    -- NULL: the channel was deleted
	at           INTEGER NOT NULL,
	by_name      TEXT NOT NULL
);
-- Version 6 (db.c) adds iteration_id, so a rollback reads only the index.
CREATE INDEX assignments_channel ON assignments (bucket_id, channel, id);

-- Parent links.  parent_id NULL: an untracked parent (a build's source that
-- is no artifact of the registry), kept in `source`.
CREATE TABLE links (
	id        INTEGER PRIMARY KEY AUTOINCREMENT,
	child_id  INTEGER NOT NULL REFERENCES iterations (id) ON DELETE CASCADE,
	parent_id INTEGER REFERENCES iterations (id),
	channel   TEXT NOT NULL DEFAULT '',      -- recorded channel, '' if none
	source    TEXT NOT NULL DEFAULT '',      -- external id it came from
	build_id  INTEGER REFERENCES builds (id) ON DELETE CASCADE,
	created   INTEGER NOT NULL
);
-- Version 6 (db.c) widens these two so that a walk up or down the links
-- never reads the table.
CREATE INDEX links_child ON links (child_id);
CREATE INDEX links_parent ON links (parent_id);

-- Revocations: explicit ones (origin_id NULL) and the inherited copies of
-- an explicit one on each descendant it reached (origin_id = that row).
-- A copy keeps only iteration, origin and at (the time, for precedence);
-- its reason, by_name, descendants, rollback and applied are blank ('' or
-- 0) and read from the origin.
CREATE TABLE revocations (
	id           INTEGER PRIMARY KEY AUTOINCREMENT,
	iteration_id INTEGER NOT NULL REFERENCES iterations (id) ON DELETE CASCADE,
	origin_id    INTEGER REFERENCES revocations (id) ON DELETE CASCADE,
	at           INTEGER NOT NULL,           -- when it takes effect
	created      INTEGER NOT NULL,
	reason       TEXT NOT NULL,
	by_name      TEXT NOT NULL,
	descendants  INTEGER NOT NULL,
	rollback     INTEGER NOT NULL,
	applied      INTEGER NOT NULL DEFAULT 0  -- its effects (rollback, events) are done
);
-- Version 5 (db.c) widens these two so that lookups never read the table.
CREATE INDEX revocations_iteration ON revocations (iteration_id);
CREATE INDEX revocations_origin ON revocations (origin_id);
-- Explicit rows only: after a big scheduled cascade, 100k inherited rows
-- would otherwise sit in the range every tick scans.
CREATE INDEX revocations_due ON revocations (applied, at)
	WHERE origin_id IS NULL;

-- The events log, stored rendered: a row holds one line, or many whole
-- lines of a set-based append (`seq` being its last line's); `off` is the
-- byte offset of its first line in the events file, so a read at any
-- offset is one indexed query.
CREATE TABLE events (
	seq    INTEGER PRIMARY KEY AUTOINCREMENT,
	at     INTEGER NOT NULL,
	off    INTEGER NOT NULL,
	line   TEXT NOT NULL                     -- each line with its newline
);
CREATE INDEX events_off ON events (off);
