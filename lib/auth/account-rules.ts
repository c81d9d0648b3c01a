import { z } from 'zod';
import { ROLES } from './roles';

/**
 * The shapes of accounts and tokens, shared by the API, the People page and the bootstrap.
 * Usernames are compared lowercased; `api` is RXSAGA_API_TOKEN's actor, so no account or
 * token may take it.
 */
const RESERVED = new Set(['api', 'anonymous', 'unknown']);

const name = (what: string) =>
  z
    .string()
    .trim()
    .toLowerCase()
    .min(2, `a ${what} has at least 2 characters`)
    .max(64)
    .regex(
      /^[a-z0-9][a-z0-9._@-]*$/,
      'letters, digits, dot, dash, underscore or @; starting with a letter or digit',
    )
    .refine((v) => !RESERVED.has(v), `that ${what} is reserved`);

export const usernameSchema = name('username');
export const tokenNameSchema = name('token name');

/** DESIGN: fewer than 12 characters is a 400. bcrypt reads at most 72 bytes. */
const newPasswordSchema = z
  .string()
  .min(12, 'a password has at least 12 characters')
  .refine((v) => Buffer.byteLength(v, 'utf8') <= 72, 'a password has at most 72 bytes');

const roleSchema = z.enum(ROLES);

const displayName = z.string().trim().max(100).nullable();

export const createAccountSchema = z.strictObject({
  username: usernameSchema,
  displayName: displayName.optional(),
  role: roleSchema,
  password: newPasswordSchema,
});

export const updateAccountSchema = z
  .strictObject({
    displayName: displayName.optional(),
    role: roleSchema.optional(),
    disabled: z.boolean().optional(),
    password: newPasswordSchema.optional(),
  })
  .refine((v) => Object.keys(v).length > 0, 'nothing to change');

export const changeOwnPasswordSchema = z.strictObject({
  currentPassword: z.string().min(1, 'enter your current password').max(200),
  newPassword: newPasswordSchema,
});

export const createTokenSchema = z.strictObject({
  name: tokenNameSchema,
  role: roleSchema,
});
