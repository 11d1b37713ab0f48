-- The nodes of a cluster target, with the verdict the cluster's evidence
-- gives each (a node's own files are a host scan of that node). A re-scan of
-- the cluster replaces its rows.

CREATE TABLE cluster_nodes (
    host_id  INTEGER NOT NULL REFERENCES hosts(id) ON DELETE CASCADE,
    name     TEXT    NOT NULL CHECK (length(name) BETWEEN 1 AND 512),
    verdict  TEXT    NOT NULL CHECK (verdict IN ('compromised', 'was_compromised', 'clean', 'unknown')),
    basis    TEXT    NOT NULL DEFAULT '[]',
    PRIMARY KEY (host_id, name)
);
