-- A session remembers the key that signed in: it ends once the chain's current key for the account is another.
-- Sessions from before this column hold '' and end on their next request.
ALTER TABLE sessions ADD COLUMN signing_key TEXT NOT NULL DEFAULT '';

-- Webhooks are listed and removed per member.
CREATE INDEX webhooks_by_member ON webhooks (member, id);
