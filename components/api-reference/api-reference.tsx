'use client';

import Script from 'next/script';
import { useEffect, useRef, useState } from 'react';
import styles from './api-reference.module.css';

interface ScalarInstance {
  destroy: () => void;
}
declare global {
  interface Window {
    Scalar?: {
      createApiReference: (
        element: HTMLElement,
        configuration: Record<string, unknown>,
      ) => ScalarInstance;
    };
  }
}

/**
 * Scalar's default muted greys and method colours are below WCAG AA contrast (axe
 * color-contrast): darker in light mode, lighter in dark mode.
 */
const CONTRAST_CSS = `
.light-mode {
  --scalar-color-2: #505050 !important; --scalar-color-3: #5c5c5c !important;
  --scalar-color-green: #0a6b2e !important; --scalar-color-blue: #0b5cad !important;
  --scalar-color-orange: #9a4a00 !important; --scalar-color-red: #b3261e !important;
  --scalar-color-yellow: #6f5300 !important; --scalar-color-purple: #6b3fa0 !important;
  --scalar-color-accent: #0b5cad !important;
}
.dark-mode {
  --scalar-color-2: #b8b8b8 !important; --scalar-color-3: #a0a0a0 !important;
  --scalar-color-green: #4ade80 !important; --scalar-color-blue: #7cb8ff !important;
  --scalar-color-orange: #fb923c !important; --scalar-color-red: #fca5a5 !important;
  --scalar-color-yellow: #facc15 !important; --scalar-color-purple: #d8b4fe !important;
  --scalar-color-accent: #7cb8ff !important;
}`;

/**
 * Renders /api/openapi.json with Scalar's browser bundle (served from this origin by
 * app/vendor). The bundle mounts its own app into the element; leaving the page destroys it.
 */
export function ApiReference({ specUrl }: { specUrl: string }) {
  const mount = useRef<HTMLDivElement>(null);
  const [loaded, setLoaded] = useState(
    () => typeof window !== 'undefined' && window.Scalar !== undefined,
  );

  useEffect(() => {
    if (!loaded || !mount.current || !window.Scalar) return;
    // The dashboard follows the operating system's theme; so does the reference.
    const dark = window.matchMedia('(prefers-color-scheme: dark)').matches;
    const instance = window.Scalar.createApiReference(mount.current, {
      url: specUrl,
      darkMode: dark,
      forceDarkModeState: dark ? 'dark' : 'light',
      customCss: CONTRAST_CSS,
      // Fonts from Scalar's CDN are outside the CSP: use the page's own.
      withDefaultFonts: false,
      hideClientButton: true,
      hideDarkModeToggle: true,
      showDeveloperTools: 'never',
      telemetry: false,
      // No AI assistant: it would send the document to a third party.
      agent: { disabled: true },
      mcp: { disabled: true },
      layout: 'modern',
      theme: 'default',
    });
    return () => instance.destroy();
  }, [loaded, specUrl]);

  return (
    <>
      <Script
        src="/vendor/scalar-api-reference.js"
        strategy="afterInteractive"
        onReady={() => setLoaded(true)}
      />
      <div ref={mount} className={styles.reference} data-testid="api-reference" />
    </>
  );
}
