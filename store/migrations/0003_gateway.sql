-- The embedded LLM gateway's configuration. Provider keys are NOT here (the
-- encrypted keystore holds them); virtual keys are stored as SHA-256 hashes.

CREATE TABLE gateway_routes (
    model       TEXT    PRIMARY KEY CHECK (length(model) BETWEEN 1 AND 200),
    provider    TEXT    NOT NULL CHECK (provider IN ('openai', 'anthropic')),
    base_url    TEXT    NOT NULL,
    key_ref     TEXT    NOT NULL,
    upstream_model TEXT NOT NULL DEFAULT '',
    translate   INTEGER NOT NULL DEFAULT 0 CHECK (translate IN (0, 1)),
    timeout_ms  INTEGER NOT NULL DEFAULT 120000 CHECK (timeout_ms > 0),
    fallbacks   TEXT    NOT NULL DEFAULT '[]',
    created_at  TEXT    NOT NULL,
    updated_at  TEXT    NOT NULL
);

CREATE TABLE gateway_keys (
    id          TEXT    PRIMARY KEY,
    name        TEXT    NOT NULL DEFAULT '',
    hash        TEXT    NOT NULL UNIQUE CHECK (length(hash) = 64),
    hint        TEXT    NOT NULL,
    models      TEXT    NOT NULL DEFAULT '[]',
    budget_tokens INTEGER NOT NULL DEFAULT 0 CHECK (budget_tokens >= 0),
    spent_tokens  INTEGER NOT NULL DEFAULT 0 CHECK (spent_tokens >= 0),
    rpm         INTEGER NOT NULL DEFAULT 0 CHECK (rpm >= 0),
    created_at  TEXT    NOT NULL,
    revoked_at  TEXT
);

-- What a running gateway last reported, for `gateway status` and the console.
CREATE TABLE gateway_status (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    listen      TEXT    NOT NULL,
    pid         INTEGER NOT NULL,
    updated_at  TEXT    NOT NULL,
    body        TEXT    NOT NULL
);
