import type { Generated } from 'kysely';

/**
 * The database schema as Kysely sees it; one shape for SQLite and PostgreSQL.
 * Times are Unix milliseconds (bigint in PostgreSQL, read back as numbers); JSON is stored as
 * text so both dialects treat it alike; booleans are 0/1.
 * Stored state values never change meaning: see the unions in src/server/domain.
 */
export interface Database {
  packages: PackagesTable;
  devices: DevicesTable;
  rollouts: RolloutsTable;
  actions: ActionsTable;
  device_events: DeviceEventsTable;
  audit_log: AuditLogTable;
  accounts: AccountsTable;
  api_tokens: ApiTokensTable;
  signing_keys: SigningKeysTable;
  enrollment_tokens: EnrollmentTokensTable;
}

export interface PackagesTable {
  id: Generated<number>;
  app_name: string;
  version: string;
  /** The uploader's file name: shown, never used as a storage path. */
  file_name: string;
  size: number;
  sha256: string;
  /** 'tapk' (trailer parsed and CRC checked) or 'file' (opaque firmware). */
  kind: string;
  tapk_name: string | null;
  tapk_description: string | null;
  /** Unix seconds, from the .tapk trailer. */
  tapk_build_time: number | null;
  tapk_crc: number | null;
  /** Ed25519 signature (base64) over the manifest; see docs/security.md. */
  signature: string;
  signing_key_id: string;
  created_at: number;
  created_by: string;
}

export interface DevicesTable {
  id: Generated<number>;
  device_id: string;
  /** SHA-256 of the device's random secret (high entropy, so no slow hash is needed). */
  secret_hash: string;
  /** JSON array of strings. */
  tags: string;
  profile: string | null;
  app_name: string | null;
  app_version: string | null;
  app_id: number | null;
  online: number;
  last_seen_at: number | null;
  created_at: number;
  revoked_at: number | null;
  /**
   * The secret hashed as Mosquitto's password file wants it (`$7$`, PBKDF2-SHA512), written at
   * registration for an external broker; null for devices registered before migration 003.
   */
  broker_password_hash: string | null;
}

export interface RolloutsTable {
  id: Generated<number>;
  name: string;
  package_id: number;
  status: string;
  /** JSON: RolloutSettings. */
  settings: string;
  /** JSON: the target as the operator gave it. */
  target: string;
  current_batch: number;
  batch_count: number;
  pause_reason: string | null;
  created_by: string;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
  updated_at: number;
  /** Which server replica advances this rollout, and until when (lease). */
  lease_owner: string | null;
  lease_expires_at: number | null;
  /** When the current batch started or may start (soak time). */
  batch_started_at: number | null;
  next_step_at: number | null;
  /** JSON: RolloutPlan (batch sizes, pacing, expected duration), from migration 004. */
  plan: string | null;
  /** The highest batch an operator approved by resuming; -1 = none. */
  approved_batch: Generated<number>;
  /** JSON: batch → error count an operator accepted by resuming. */
  error_ack: Generated<string>;
}

export interface ActionsTable {
  id: Generated<number>;
  rollout_id: number;
  device_row_id: number;
  package_id: number;
  batch: number;
  state: string;
  /** The version the device ran when the action was created (what "rolled back" means). */
  from_version: string | null;
  attempt: number;
  command_id: string | null;
  bytes_served: number;
  error_code: string | null;
  error_detail: string | null;
  created_at: number;
  updated_at: number;
  sent_at: number | null;
  /** When the current state times out (null when it cannot). */
  deadline_at: number | null;
  /** When a retry may be sent (backoff). */
  retry_at: number | null;
  finished_at: number | null;
}

export interface DeviceEventsTable {
  id: Generated<number>;
  device_row_id: number;
  action_id: number | null;
  kind: string;
  /** JSON object. */
  detail: string;
  at: number;
}

export interface AuditLogTable {
  id: Generated<number>;
  at: number;
  actor: string;
  action: string;
  target: string;
  /** JSON object. */
  detail: string;
  ip: string | null;
}

export interface AccountsTable {
  id: Generated<number>;
  username: string;
  password_hash: string;
  role: string;
  created_at: number;
  disabled_at: number | null;
}

export interface ApiTokensTable {
  id: Generated<number>;
  account_id: number;
  name: string;
  /** SHA-256 of the token: the token itself is shown once and never stored. */
  token_hash: string;
  created_at: number;
  expires_at: number | null;
  revoked_at: number | null;
  last_used_at: number | null;
  /** 'api' or 'session' (src/server/auth/api-tokens.ts). */
  kind: string;
  /** A role below the account's that the token is limited to; null acts with the account's. */
  role: string | null;
}

export interface SigningKeysTable {
  id: Generated<number>;
  /** 'url-hmac' or 'manifest-ed25519'. */
  purpose: string;
  key_id: string;
  /** base64 secret or PKCS8 private key. */
  secret: string;
  public_key: string | null;
  created_at: number;
  retired_at: number | null;
}

export interface EnrollmentTokensTable {
  id: Generated<number>;
  name: string;
  /** SHA-256 of the token, which is shown once to the admin who made it. */
  token_hash: string;
  /** JSON array: the tags every device enrolled with this token gets. */
  tags: string;
  profile: string | null;
  max_uses: number;
  used_count: number;
  expires_at: number;
  created_by: string;
  created_at: number;
  revoked_at: number | null;
}
