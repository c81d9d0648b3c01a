'use server';

import { redirect } from 'next/navigation';
import { signIn, signOut } from '@/lib/auth/session';
import { refusalResult, type ActionResult } from '@/lib/web/action-result';

/** Only our own pages: an open redirect would let a link sign someone in and send them elsewhere. */
function safeNext(value: FormDataEntryValue | null): string {
  const next = typeof value === 'string' ? value : '';
  return next.startsWith('/') && !next.startsWith('//') && !next.startsWith('/\\') ? next : '/';
}

export async function signInAction(
  _previous: ActionResult | null,
  form: FormData,
): Promise<ActionResult> {
  const name = String(form.get('name') ?? '').trim();
  try {
    await signIn({ password: String(form.get('password') ?? ''), ...(name ? { name } : {}) });
  } catch (error) {
    return refusalResult(error, 'sign-in');
  }
  redirect(safeNext(form.get('next')));
}

export async function signOutAction(): Promise<void> {
  await signOut();
  redirect('/sign-in');
}
