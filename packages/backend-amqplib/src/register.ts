// `import "@carrot/backend-amqplib/register"` serves this backend's URL schemes
// without core loading the package by name at connect time, which a bundler
// (esbuild, webpack, Rollup) cannot follow: the one line a bundled
// application needs. Its only effect is the registration.
import { registerBackend } from "@carrot/core/backend";
import factory from "./index.js";

for (const scheme of factory.schemes) registerBackend(scheme, factory);
