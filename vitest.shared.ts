/**
 * Tests run on the TypeScript sources of the workspace packages, not on their
 * builds: every package's `exports` map has an "@carrot/source" condition that
 * points at src/, and this turns it on for Vite's resolver. The others are
 * Vite's server defaults (which a custom list replaces) less "module": with
 * it, Vite picks packages' bundler builds (the AWS SDK's dist-es), which
 * Node then refuses to load.
 */
const conditions = ["@carrot/source", "node", "development|production"];

export const sourceConditions = {
  resolve: { conditions },
  ssr: { resolve: { conditions } },
};
