'use server';

import { revalidatePath } from 'next/cache';
import { getDb } from '@/db/client';
import { requireAdmin } from '@/server/auth/guards';
import { auditActorOf } from '@/lib/auth/principal';
import { changeAccount, createAccount } from '@/server/commands/accounts';
import { createApiToken, revokeApiToken } from '@/server/commands/api-tokens';
import { refusalResult, type ActionResult } from '@/server/web/action-result';

/** The People page's actions: the same commands as /api/users and /api/tokens, for admins. */

const text = (form: FormData, name: string) => String(form.get(name) ?? '').trim();

export async function createAccountAction(
  _previous: ActionResult<{ username: string }> | null,
  form: FormData,
): Promise<ActionResult<{ username: string }>> {
  try {
    const by = auditActorOf(await requireAdmin());
    const displayName = text(form, 'displayName');
    const account = await createAccount(
      getDb(),
      {
        username: text(form, 'username'),
        role: text(form, 'role'),
        password: String(form.get('password') ?? ''),
        ...(displayName ? { displayName } : {}),
      },
      by,
    );
    revalidatePath('/people');
    return { ok: true, data: { username: account.username } };
  } catch (error) {
    return refusalResult(error, 'account.create');
  }
}

/** One change to one account: `role`, `disabled` ("true"/"false") or `password`. */
export async function changeAccountAction(
  _previous: ActionResult<{ username: string }> | null,
  form: FormData,
): Promise<ActionResult<{ username: string }>> {
  try {
    const by = auditActorOf(await requireAdmin());
    const change: Record<string, unknown> = {};
    if (form.has('role')) change.role = text(form, 'role');
    if (form.has('disabled')) change.disabled = text(form, 'disabled') === 'true';
    if (form.has('password')) change.password = String(form.get('password') ?? '');
    const account = await changeAccount(getDb(), text(form, 'username'), change, by);
    revalidatePath('/people');
    return { ok: true, data: { username: account.username } };
  } catch (error) {
    return refusalResult(error, 'account.update');
  }
}

export async function createTokenAction(
  _previous: ActionResult<{ name: string; token: string }> | null,
  form: FormData,
): Promise<ActionResult<{ name: string; token: string }>> {
  try {
    const by = auditActorOf(await requireAdmin());
    const made = await createApiToken(
      getDb(),
      { name: text(form, 'name'), role: text(form, 'role') },
      by,
    );
    revalidatePath('/people');
    return { ok: true, data: { name: made.name, token: made.token } };
  } catch (error) {
    return refusalResult(error, 'token.create');
  }
}

export async function revokeTokenAction(
  _previous: ActionResult | null,
  form: FormData,
): Promise<ActionResult> {
  try {
    const by = auditActorOf(await requireAdmin());
    await revokeApiToken(getDb(), text(form, 'name'), by);
    revalidatePath('/people');
    return { ok: true, data: undefined };
  } catch (error) {
    return refusalResult(error, 'token.revoke');
  }
}
