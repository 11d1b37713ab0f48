-- Tourniquet schema v1. Secrets never enter this database: credentials are
-- stored as fingerprint + hint only.

CREATE TABLE incidents (
    id         INTEGER PRIMARY KEY,
    name       TEXT    NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 128),
    created_at TEXT    NOT NULL
);

CREATE TABLE hosts (
    id            INTEGER PRIMARY KEY,
    incident_id   INTEGER NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,
    kind          TEXT    NOT NULL DEFAULT 'host' CHECK (kind IN ('host', 'cluster', 'ci')),
    name          TEXT    NOT NULL,
    root          TEXT    NOT NULL DEFAULT '/',
    scanned_at    TEXT,
    window_start  TEXT,
    window_end    TEXT,
    window_open   INTEGER NOT NULL DEFAULT 0 CHECK (window_open IN (0, 1)),
    window_basis  TEXT    NOT NULL DEFAULT '[]',
    verdict       TEXT    NOT NULL DEFAULT 'unknown'
                  CHECK (verdict IN ('compromised', 'was_compromised', 'clean', 'unknown')),
    packs         TEXT    NOT NULL DEFAULT '[]',
    UNIQUE (incident_id, kind, name, root)
);

CREATE TABLE findings (
    id          TEXT    PRIMARY KEY,
    host_id     INTEGER NOT NULL REFERENCES hosts(id) ON DELETE CASCADE,
    pack        TEXT    NOT NULL,
    rule        TEXT    NOT NULL,
    severity    TEXT    NOT NULL CHECK (severity IN ('critical', 'high', 'medium', 'low', 'info')),
    path        TEXT    NOT NULL,
    detail      TEXT    NOT NULL DEFAULT '',
    observed_at TEXT,
    sha256      TEXT,
    excerpt     TEXT    NOT NULL DEFAULT '',
    confidence  TEXT    NOT NULL DEFAULT '',
    first_seen  TEXT    NOT NULL,
    last_seen   TEXT    NOT NULL,
    gone        INTEGER NOT NULL DEFAULT 0 CHECK (gone IN (0, 1))
);
CREATE INDEX findings_host ON findings(host_id, severity);

CREATE TABLE credentials (
    id          TEXT    PRIMARY KEY,
    host_id     INTEGER NOT NULL REFERENCES hosts(id) ON DELETE CASCADE,
    kind        TEXT    NOT NULL,
    path        TEXT    NOT NULL,
    fingerprint TEXT    NOT NULL CHECK (fingerprint GLOB 'sha256:[0-9a-f]*' AND length(fingerprint) = 23),
    hint        TEXT    NOT NULL,
    modified_at TEXT,
    owner       TEXT    NOT NULL DEFAULT '',
    exposure    TEXT    NOT NULL DEFAULT 'unknown' CHECK (exposure IN ('exposed', 'not_exposed', 'unknown')),
    reason      TEXT    NOT NULL DEFAULT '',
    detail      TEXT    NOT NULL DEFAULT '',
    note        TEXT    NOT NULL DEFAULT '',
    rotation    TEXT    NOT NULL DEFAULT 'pending'
                CHECK (rotation IN ('pending', 'in_progress', 'rotated', 'manual_required')),
    first_seen  TEXT    NOT NULL,
    last_seen   TEXT    NOT NULL,
    UNIQUE (host_id, path, fingerprint)
);
CREATE INDEX credentials_fingerprint ON credentials(fingerprint);

CREATE TABLE playbook_runs (
    id               TEXT    PRIMARY KEY,
    incident_id      INTEGER NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,
    playbook         TEXT    NOT NULL,
    playbook_version INTEGER NOT NULL,
    credential_id    TEXT    REFERENCES credentials(id),
    state            TEXT    NOT NULL
                     CHECK (state IN ('planned', 'running', 'awaiting_approval', 'paused', 'failed', 'done', 'cancelled')),
    created_at       TEXT    NOT NULL,
    updated_at       TEXT    NOT NULL,
    lease_owner      TEXT,
    lease_until      TEXT
);

CREATE TABLE playbook_steps (
    run_id      TEXT    NOT NULL REFERENCES playbook_runs(id) ON DELETE CASCADE,
    idx         INTEGER NOT NULL CHECK (idx >= 0),
    name        TEXT    NOT NULL,
    kind        TEXT    NOT NULL CHECK (kind IN ('action', 'manual', 'verify', 'wait')),
    destructive INTEGER NOT NULL DEFAULT 0 CHECK (destructive IN (0, 1)),
    state       TEXT    NOT NULL
                CHECK (state IN ('pending', 'intent', 'done', 'failed', 'awaiting_approval', 'skipped')),
    intent      TEXT    NOT NULL DEFAULT '{}',
    result      TEXT    NOT NULL DEFAULT '{}',
    attempts    INTEGER NOT NULL DEFAULT 0,
    error       TEXT    NOT NULL DEFAULT '',
    approved_by TEXT,
    started_at  TEXT,
    finished_at TEXT,
    PRIMARY KEY (run_id, idx)
);

-- Append-only, hash-chained: hash = sha256(prev_hash || canonical JSON of the
-- event). The triggers stop honest mistakes; the chain catches the rest.
CREATE TABLE audit_log (
    seq       INTEGER PRIMARY KEY,
    at        TEXT    NOT NULL,
    incident  TEXT    NOT NULL,
    actor     TEXT    NOT NULL,
    kind      TEXT    NOT NULL,
    subject   TEXT    NOT NULL,
    data      TEXT    NOT NULL,
    prev_hash TEXT    NOT NULL,
    hash      TEXT    NOT NULL UNIQUE
);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
