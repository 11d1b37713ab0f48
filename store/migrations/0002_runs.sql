-- Playbook runs keep their non-secret working state (vars) and the
-- operator's parameters (params) as JSON; hosts gain the 'cloud' kind for
-- provider-side evidence (CloudTrail, GitHub audit log). SQLite cannot alter a
-- CHECK constraint, so hosts is rebuilt.

ALTER TABLE playbook_runs ADD COLUMN vars TEXT NOT NULL DEFAULT '{}';
ALTER TABLE playbook_runs ADD COLUMN params TEXT NOT NULL DEFAULT '{}';
ALTER TABLE playbook_runs ADD COLUMN error TEXT NOT NULL DEFAULT '';
ALTER TABLE playbook_steps ADD COLUMN title TEXT NOT NULL DEFAULT '';


CREATE TABLE hosts_new (
    id            INTEGER PRIMARY KEY,
    incident_id   INTEGER NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,
    kind          TEXT    NOT NULL DEFAULT 'host' CHECK (kind IN ('host', 'cluster', 'ci', 'cloud')),
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
INSERT INTO hosts_new SELECT * FROM hosts;
DROP TABLE hosts;
ALTER TABLE hosts_new RENAME TO hosts;

CREATE INDEX playbook_runs_credential ON playbook_runs(credential_id);
