import { z } from 'zod';

/**
 * Zod compiles its object parsers with `new Function` when it may, and finds out whether it
 * may by trying `Function("")`. The pages' Content-Security-Policy allows no eval (proxy.ts),
 * so in the browser that probe is a CSP violation on every page that parses. Jitless parsing
 * needs no eval. Imported first by the client components that bring zod to the browser.
 */
z.config({ jitless: true });
