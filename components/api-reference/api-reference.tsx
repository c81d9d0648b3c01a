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
    const instance = window.Scalar.createApiReference(mount.current, {
      url: specUrl,
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
