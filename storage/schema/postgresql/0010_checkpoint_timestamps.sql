-- A checkpoint's RFC 3161 timestamp token (base64 of its DER), '' when unstamped.
ALTER TABLE ledger_checkpoints ADD COLUMN tsa_token TEXT NOT NULL DEFAULT '';
