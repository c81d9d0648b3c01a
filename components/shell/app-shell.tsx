import Link from 'next/link';
import type { ReactNode } from 'react';
import { signOutAction } from '@/server/actions/session';
import { canAdminister, canOperate, type Principal } from '@/lib/auth/principal';
import { ROLE_LABELS } from '@/lib/auth/roles';
import { PauseBanner } from '@/components/incidents/pause-banner';
import { AlertBanner } from '@/components/alerts/alert-banner';
import type { AlertItem } from '@/components/alerts/alert-queries';
import { LiveIndicator } from '@/components/live/live-indicator';
import styles from './app-shell.module.css';
import { NavLinks, type NavItem } from './nav-links';

function navFor(principal: Principal): NavItem[] {
  return [
    { href: '/', label: 'Overview' },
    { href: '/sagas', label: 'Sagas' },
    { href: '/interventions', label: 'Needs intervention' },
    ...(canOperate(principal) ? [{ href: '/orders/new', label: 'New order' }] : []),
    { href: '/inventory', label: 'Inventory' },
    { href: '/controls', label: 'Controls' },
    { href: '/operations', label: 'Operations' },
    { href: '/drills', label: 'Drills' },
    { href: '/alerts', label: 'Alerts' },
    { href: '/audit', label: 'Audit' },
    { href: '/api-docs', label: 'API reference' },
    ...(canAdminister(principal) ? [{ href: '/people', label: 'People' }] : []),
    { href: '/account', label: 'Your account' },
  ];
}

export function AppShell({
  principal,
  firingAlerts,
  children,
}: {
  principal: Principal;
  /** What fires now, read by the layout: the alert banner's first paint. */
  firingAlerts: AlertItem[];
  children: ReactNode;
}) {
  return (
    <div className={styles.shell}>
      <a href="#main" className={styles.skip}>
        Skip to content
      </a>
      <aside className={styles.sidebar}>
        <div className={styles.sidebarInner}>
          <Link href="/" className={styles.brand}>
            <span className={styles.brandMark} aria-hidden="true">
              Rx
            </span>
            RxSaga
          </Link>
          <NavLinks items={navFor(principal)} />
          <div className={styles.user}>
            <span className={styles.userName} title={principal.actor}>
              {principal.actor}
            </span>
            <span className={styles.role}>{ROLE_LABELS[principal.role]}</span>
            <form action={signOutAction}>
              <button type="submit" className={styles.signOut}>
                Sign out
              </button>
            </form>
          </div>
        </div>
      </aside>
      <main id="main" className={styles.main}>
        <div className={styles.topline}>
          <LiveIndicator />
        </div>
        <PauseBanner />
        <AlertBanner initial={firingAlerts} />
        {children}
      </main>
    </div>
  );
}
