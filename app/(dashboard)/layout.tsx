import type { ReactNode } from 'react';
import { AppShell } from '@/components/shell/app-shell';
import { LiveProvider } from '@/components/live/live-provider';
import { ToastProvider } from '@/components/ui/toast';
import { getSession } from '@/lib/auth/session';

/**
 * The signed-in dashboard: navigation, live updates and toasts. Access is checked by each page
 * (requirePageViewer), which sends an anonymous visitor to sign in with the way back.
 */
export default async function DashboardLayout({ children }: { children: ReactNode }) {
  const principal = await getSession();
  if (!principal) return children;
  return (
    <LiveProvider>
      <ToastProvider>
        <AppShell principal={principal}>{children}</AppShell>
      </ToastProvider>
    </LiveProvider>
  );
}
