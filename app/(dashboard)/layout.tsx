import type { ReactNode } from 'react';
import { getDb } from '@/db/client';
import { listAlerts } from '@/db/alerts';
import { AppShell } from '@/components/shell/app-shell';
import { LiveProvider } from '@/components/live/live-provider';
import { ToastProvider } from '@/components/ui/toast';
import { getSession } from '@/server/auth/session';

/**
 * The signed-in dashboard: navigation, live updates and toasts. Access is checked by each page
 * (requirePageViewer), which sends an anonymous visitor to sign in with the way back.
 */
export default async function DashboardLayout({ children }: { children: ReactNode }) {
  const principal = await getSession();
  if (!principal) return children;
  // Firing alerts only (no history): the banner's first paint, on every page.
  const firingAlerts = await listAlerts(getDb(), 0);
  return (
    <LiveProvider>
      <ToastProvider>
        <AppShell principal={principal} firingAlerts={firingAlerts}>
          {children}
        </AppShell>
      </ToastProvider>
    </LiveProvider>
  );
}
