import type { Role } from '../domain/audit-log.js';

/**
 * The three operator roles, weakest first. A viewer reads; an operator also uploads, deploys
 * and manages devices; an admin also manages accounts, enrollment tokens and keys.
 */
export const ROLES: readonly Role[] = ['viewer', 'operator', 'admin'];

const RANK: Record<Role, number> = { viewer: 0, operator: 1, admin: 2 };

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && Object.hasOwn(RANK, value);
}

/** True when `role` may do what `needed` may. */
export function roleAtLeast(role: Role, needed: Role): boolean {
  return RANK[role] >= RANK[needed];
}

/** The weaker of two roles (a token never acts above its account). */
export function lowerRole(a: Role, b: Role): Role {
  return RANK[a] <= RANK[b] ? a : b;
}
