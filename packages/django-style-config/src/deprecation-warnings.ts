import type { DeprecatedSettingUse } from "./resolve-settings.js";

const warned = new Set<string>();

/** One DeprecationWarning per deprecated name per process, as carrot warned: enough to be seen, not a flood. */
export function warnDeprecated(uses: readonly DeprecatedSettingUse[]): void {
  for (const use of uses) {
    if (warned.has(use.setting)) continue;
    warned.add(use.setting);
    process.emitWarning(
      `${use.setting} (from ${use.source}) has been renamed to ${use.replacement}; carrot still reads ${use.setting}, but rename it`,
      { type: "DeprecationWarning", code: "CARROT_DEPRECATED_SETTING" },
    );
  }
}
