'use server';

import { getDb } from '@/db/client';
import { requireViewer } from '@/server/auth/guards';
import { auditActorOf } from '@/lib/auth/principal';
import { requestClientKey, startSession } from '@/server/auth/session';
import { changeOwnPassword } from '@/server/commands/accounts';
import { forbidden } from '@/lib/errors';
import { refusalResult, type ActionResult } from '@/server/web/action-result';

/** Every account changes its own password; its other sessions end, this tab gets a new one. */
export async function changeOwnPasswordAction(
  _previous: ActionResult | null,
  form: FormData,
): Promise<ActionResult> {
  try {
    const principal = await requireViewer();
    if (principal.via !== 'session') throw forbidden('sign in to change your password');
    const account = await changeOwnPassword(
      getDb(),
      principal.actor,
      {
        currentPassword: String(form.get('currentPassword') ?? ''),
        newPassword: String(form.get('newPassword') ?? ''),
      },
      auditActorOf(principal),
      { client: await requestClientKey() },
    );
    await startSession(account);
    return { ok: true, data: undefined };
  } catch (error) {
    return refusalResult(error, 'account.password_change');
  }
}
