/** A JSON payload whose encoding is exactly `size` bytes, numbered so that each is distinct. */
export function payloadOfSize(size: number, n: number): { id: number; data: string } {
  const empty = JSON.stringify({ id: n, data: "" }).length;
  return { id: n, data: "x".repeat(Math.max(0, size - empty)) };
}

export function rate(count: number, ms: number): number {
  return Math.round((count / ms) * 1000);
}
