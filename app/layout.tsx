import type { Metadata } from 'next';
import { connection } from 'next/server';
import type { ReactNode } from 'react';
// The app's fonts are served by the app itself (from npm, no font host): text looks the same on
// every machine and in the test browser, whatever fonts the system has.
import '@fontsource-variable/inter';
import '@fontsource-variable/jetbrains-mono';
import '@fontsource/noto-sans-symbols-2'; // the arrows (→ ←) Inter's web subsets leave out
import './globals.css';

export const metadata: Metadata = {
  title: 'RxSaga',
  description: 'Pharmacy order fulfillment sagas: watch, retry and cancel them.',
};

/**
 * Rendered per request, every page: the CSP nonce (proxy.ts) is new for each response, and
 * Next.js can only put it on the scripts of a page it renders now, not of a prerendered one.
 */
export default async function RootLayout({ children }: { children: ReactNode }) {
  await connection();
  return (
    <html lang="en">
      <body>{children}</body>
    </html>
  );
}
