import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A new, empty folder under the system's temporary folder, for one broker's files. */
export function tempDir(broker: string): Promise<string> {
  return mkdtemp(join(tmpdir(), `carrot-${broker}-`));
}
