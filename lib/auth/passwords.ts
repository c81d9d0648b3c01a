import bcrypt from 'bcryptjs';

/**
 * Password hashes: bcrypt, cost 10 (tens of milliseconds: slow for guessing, quick enough for
 * a sign-in). bcryptjs is pure JavaScript, so nothing downloads a binary. A check against an
 * account that does not exist (or has no password) still runs one bcrypt compare, against a
 * dummy hash, so the time of the answer does not tell whether the name exists.
 */
const COST = 10;

export const hashPassword = (password: string) => bcrypt.hash(password, COST);

let dummy: Promise<string> | undefined;

export async function verifyPassword(password: string, hash: string | null): Promise<boolean> {
  dummy ??= bcrypt.hash('not a password of anyone', COST);
  const matches = await bcrypt.compare(password, hash ?? (await dummy));
  return hash !== null && matches;
}
