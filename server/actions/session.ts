'use server';

import { redirect } from 'next/navigation';
import { safeReturnPath } from '@/lib/auth/return-path';
import { signOutEverywhere } from '@/server/auth/oidc';
import { signIn } from '@/server/auth/session';
import { refusalResult, type ActionResult } from '@/server/web/action-result';

export async function signInAction(
  _previous: ActionResult | null,
  form: FormData,
): Promise<ActionResult> {
  try {
    await signIn({
      username: String(form.get('username') ?? ''),
      password: String(form.get('password') ?? ''),
    });
  } catch (error) {
    return refusalResult(error, 'sign-in');
  }
  // Only our own pages: an open redirect would let a link sign someone in and send them elsewhere.
  redirect(safeReturnPath(form.get('next')));
}

export async function signOutAction(): Promise<void> {
  redirect(await signOutEverywhere());
}
