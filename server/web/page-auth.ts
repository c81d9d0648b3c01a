import 'server-only';
import { notFound, redirect } from 'next/navigation';
import { getSession } from '@/server/auth/session';
import { canAdminister, type Principal } from '@/lib/auth/principal';

/**
 * Pages read data on the server: each page asks for its reader here, and an anonymous visitor
 * goes to the sign-in page (with the way back), rather than seeing an error.
 */
export async function requirePageViewer(returnTo: string): Promise<Principal> {
  const principal = await getSession();
  if (!principal) redirect(`/sign-in?next=${encodeURIComponent(returnTo)}`);
  return principal;
}

/** Admin pages: anonymous visitors sign in; others get the not-found page (nothing to see). */
export async function requirePageAdmin(returnTo: string): Promise<Principal> {
  const principal = await requirePageViewer(returnTo);
  if (!canAdminister(principal)) notFound();
  return principal;
}
