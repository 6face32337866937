-- Webhooks watch one member's approvals ("needs your approval" means that member's), and remember what they sent
-- so that each notice goes out once per proposal, across restarts.
ALTER TABLE webhooks ADD COLUMN member TEXT NOT NULL DEFAULT '';

CREATE TABLE webhook_deliveries (
    webhook_id  INTEGER NOT NULL,
    event       TEXT    NOT NULL,
    proposal_id TEXT    NOT NULL,
    attempts    INTEGER NOT NULL,
    delivered   INTEGER NOT NULL,              -- 1 once the receiver answered 2xx
    last_ms     INTEGER NOT NULL,
    PRIMARY KEY (webhook_id, event, proposal_id)
);
