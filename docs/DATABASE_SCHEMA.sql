-- Database schema of the session server (SQLite dialect).
-- Generated from the migrations in migrations/ by `npm run schema:sql`; do not edit by hand.
-- PostgreSQL gets the same tables from the same migrations, with `timestamptz` for `datetime`
-- and `serial`-style identity for the integer primary keys.

CREATE TABLE "chats" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "sender_id" integer NOT NULL, "receiver_id" integer NOT NULL, "message" text NOT NULL, "timestamp" datetime NOT NULL, CONSTRAINT "FK_ed49245ae87902459011243d69a" FOREIGN KEY ("sender_id") REFERENCES "users" ("id") ON DELETE CASCADE, CONSTRAINT "FK_543183a92a0aa5ae2851b69913c" FOREIGN KEY ("receiver_id") REFERENCES "users" ("id") ON DELETE CASCADE);

CREATE INDEX "ix_chats_sender_receiver" ON "chats" ("sender_id", "receiver_id", "id");

CREATE INDEX "ix_chats_receiver_sender" ON "chats" ("receiver_id", "sender_id", "id");

CREATE TABLE "global_chat" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "user_id" integer NOT NULL, "message" text NOT NULL, "timestamp" datetime NOT NULL, CONSTRAINT "FK_f117b17772e784cbbcfd2d85f16" FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON DELETE CASCADE);

CREATE INDEX "ix_global_chat_user" ON "global_chat" ("user_id");

CREATE TABLE "login_attempts" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "attempted_at" datetime NOT NULL, "user_id" integer, "email" varchar(254) NOT NULL, "ip_address" varchar(45), "user_agent" varchar(512), "success" boolean NOT NULL, "reason" varchar(20) NOT NULL, "country" varchar(2), "new_device" boolean NOT NULL DEFAULT (0), CONSTRAINT "FK_5f88175f39e2b2ebf9e2295a9fd" FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON DELETE CASCADE ON UPDATE NO ACTION);

CREATE INDEX "ix_login_attempts_time" ON "login_attempts" ("attempted_at");

CREATE INDEX "ix_login_attempts_user" ON "login_attempts" ("user_id", "id");

CREATE INDEX "ix_login_attempts_user_success" ON "login_attempts" ("user_id", "success", "id");

CREATE TABLE "users" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "name" varchar(100) NOT NULL, "phone" varchar(20) NOT NULL, "email" varchar(254) NOT NULL, "password_hash" varchar(100) NOT NULL, "created_at" datetime NOT NULL, "last_login" datetime, "is_active" boolean NOT NULL DEFAULT (1), "is_admin" boolean NOT NULL DEFAULT (0), "credential_version" integer NOT NULL DEFAULT (0), "email_verified" boolean NOT NULL DEFAULT (0));

CREATE UNIQUE INDEX "uq_users_email" ON "users" ("email");

CREATE TABLE "email_tokens" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "user_id" integer NOT NULL, "purpose" varchar(20) NOT NULL, "email" varchar(254) NOT NULL, "token_hash" varchar(64) NOT NULL, "credential_version" integer NOT NULL, "created_at" datetime NOT NULL, "expires_at" datetime NOT NULL, "used_at" datetime, CONSTRAINT "FK_018295f41628791c301bfe8b625" FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON DELETE CASCADE);

CREATE UNIQUE INDEX "uq_email_tokens_token_hash" ON "email_tokens" ("token_hash");

CREATE INDEX "ix_email_tokens_user" ON "email_tokens" ("user_id", "purpose", "created_at");

CREATE INDEX "ix_email_tokens_expires" ON "email_tokens" ("expires_at");

CREATE TABLE "sessions" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "user_id" integer NOT NULL, "token_hash" varchar(64) NOT NULL, "ip_address" varchar(45), "user_agent" varchar(512), "login_time" datetime NOT NULL, "last_activity" datetime NOT NULL, "logout_time" datetime, "is_active" boolean NOT NULL DEFAULT (1), "expires_at" datetime NOT NULL, "end_reason" varchar(20), "remember_me" boolean, "device_browser" varchar(50), "device_os" varchar(50), "device_type" varchar(20), "country" varchar(2), "new_device" boolean NOT NULL DEFAULT (0), "auth_time" datetime NOT NULL, "credential_version" integer NOT NULL DEFAULT (0), "auth_methods" varchar(64) NOT NULL DEFAULT ('pwd'), CONSTRAINT "FK_085d540d9f418cfbdc7bd55bb19" FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON DELETE CASCADE ON UPDATE NO ACTION);

CREATE INDEX "ix_sessions_active_expires" ON "sessions" ("is_active", "expires_at");

CREATE INDEX "ix_sessions_user_active" ON "sessions" ("user_id", "is_active");

CREATE UNIQUE INDEX "uq_sessions_token_hash" ON "sessions" ("token_hash");

CREATE INDEX "ix_sessions_ended" ON "sessions" ("is_active", "logout_time");

CREATE TABLE "passkeys" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "user_id" integer NOT NULL, "credential_id" varchar(1364) NOT NULL, "public_key" text NOT NULL, "counter" bigint NOT NULL DEFAULT (0), "user_handle" varchar(128) NOT NULL, "name" varchar(100) NOT NULL, "transports" varchar(200) NOT NULL DEFAULT (''), "backup_eligible" boolean NOT NULL DEFAULT (0), "backed_up" boolean NOT NULL DEFAULT (0), "aaguid" varchar(36), "device_browser" varchar(50), "device_os" varchar(50), "device_type" varchar(20), "created_at" datetime NOT NULL, "last_used_at" datetime, CONSTRAINT "FK_02227b9a8a34a808e3e23800b00" FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON DELETE CASCADE);

CREATE UNIQUE INDEX "uq_passkeys_credential_id" ON "passkeys" ("credential_id");

CREATE INDEX "ix_passkeys_user" ON "passkeys" ("user_id");

CREATE TABLE "webauthn_challenges" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "challenge_hash" varchar(64) NOT NULL, "purpose" varchar(20) NOT NULL, "user_id" integer, "session_id" integer, "created_at" datetime NOT NULL, "expires_at" datetime NOT NULL, "used_at" datetime, CONSTRAINT "FK_0dcc679b1d27e0a3927a37798a9" FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON DELETE CASCADE);

CREATE UNIQUE INDEX "uq_webauthn_challenges_hash" ON "webauthn_challenges" ("challenge_hash");

CREATE INDEX "ix_webauthn_challenges_expires" ON "webauthn_challenges" ("expires_at");

CREATE TABLE "totp_factors" ("user_id" integer PRIMARY KEY NOT NULL, "secret_encrypted" varchar(200) NOT NULL, "created_at" datetime NOT NULL, "confirmed_at" datetime, "last_used_step" integer, "last_used_at" datetime, CONSTRAINT "FK_eded11141800ddff9dfbd017fd2" FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON DELETE CASCADE);

CREATE TABLE "recovery_codes" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "user_id" integer NOT NULL, "code_hash" varchar(64) NOT NULL, "created_at" datetime NOT NULL, "used_at" datetime, CONSTRAINT "FK_fb82b2ac740ca095b617afad031" FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON DELETE CASCADE);

CREATE INDEX "ix_recovery_codes_user" ON "recovery_codes" ("user_id", "code_hash");

CREATE TABLE "pending_sign_ins" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "token_hash" varchar(64) NOT NULL, "user_id" integer NOT NULL, "credential_version" integer NOT NULL, "remember_me" boolean, "created_at" datetime NOT NULL, "expires_at" datetime NOT NULL, "attempts" integer NOT NULL DEFAULT (0), "used_at" datetime, CONSTRAINT "FK_1e6caeba83d32430b911c244add" FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON DELETE CASCADE);

CREATE UNIQUE INDEX "uq_pending_sign_ins_token_hash" ON "pending_sign_ins" ("token_hash");

CREATE INDEX "ix_pending_sign_ins_expires" ON "pending_sign_ins" ("expires_at");

CREATE TABLE "outbox" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "kind" varchar(30) NOT NULL, "payload" text NOT NULL, "created_at" datetime NOT NULL, "available_at" datetime NOT NULL, "attempts" integer NOT NULL DEFAULT (0), "last_error" varchar(200), "sent_at" datetime, "failed_at" datetime, "locked_until" datetime, "locked_by" varchar(64), "ordering_key" varchar(120));

CREATE INDEX "ix_outbox_pending" ON "outbox" ("available_at") WHERE sent_at IS NULL AND failed_at IS NULL;

CREATE INDEX "ix_outbox_sent" ON "outbox" ("sent_at") WHERE sent_at IS NOT NULL;

CREATE INDEX "ix_outbox_failed" ON "outbox" ("failed_at") WHERE failed_at IS NOT NULL;

CREATE INDEX "ix_outbox_ordering" ON "outbox" ("ordering_key", "id") WHERE sent_at IS NULL AND failed_at IS NULL;
