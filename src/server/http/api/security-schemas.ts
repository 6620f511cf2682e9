import { ROLES } from '../../auth/roles.js';

/** JSON bodies of the security routes are small; anything larger is refused with a 413. */
export const JSON_BODY_LIMIT = 16 * 1024;

/** Responses that carry a secret (a token, a password) must not be kept by any cache. */
export const NO_STORE = { 'cache-control': 'no-store', pragma: 'no-cache' } as const;

export const roleSchema = { type: 'string', enum: [...ROLES] } as const;

export const usernameSchema = {
  type: 'string',
  pattern: '^[a-z0-9][a-z0-9._-]{0,63}$',
} as const;

/** Tags as devices carry them (device-service.ts TAG_PATTERN). */
export const tagSchema = { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$' } as const;

export const idParams = {
  type: 'object',
  required: ['id'],
  additionalProperties: false,
  properties: { id: { type: 'integer', minimum: 1, maximum: 2147483647 } },
} as const;

/** Unix milliseconds; later checks demand the future. */
export const timestampSchema = { type: 'integer', minimum: 0, maximum: 8.64e15 } as const;
