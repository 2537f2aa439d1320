/**
 * Tests run on the TypeScript sources of the workspace packages, not on their
 * builds: every package's `exports` map has an "@carrot/source" condition that
 * points at src/, and this turns it on for Vite's resolver. The other entries
 * are Vite's own server defaults, which a custom list replaces.
 */
const conditions = ["@carrot/source", "module", "node", "development|production"];

export const sourceConditions = {
  resolve: { conditions },
  ssr: { resolve: { conditions } },
};
