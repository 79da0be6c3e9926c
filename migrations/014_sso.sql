-- Single sign-on: a user created by an OpenID Connect sign-in is known by
-- its issuer and subject, and has no password (password_hash '!sso').
ALTER TABLE users ADD COLUMN sso_subject TEXT;
CREATE UNIQUE INDEX users_sso_subject ON users(sso_subject) WHERE sso_subject IS NOT NULL;
