import 'server-only';
import { redirect } from 'next/navigation';
import { getSession } from '@/lib/auth/session';
import type { Principal } from '@/lib/auth/principal';

/**
 * Pages read data on the server: each page asks for its reader here, and an anonymous visitor
 * goes to the sign-in page (with the way back), rather than seeing an error.
 */
export async function requirePageViewer(returnTo: string): Promise<Principal> {
  const principal = await getSession();
  if (!principal) redirect(`/sign-in?next=${encodeURIComponent(returnTo)}`);
  return principal;
}
