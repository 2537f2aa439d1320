/**
 * No way gave a broker. The message lists the four ways in order, why each
 * did not, and what to install or set. Like the suite's WaitTimeoutError it
 * is a test-harness error, not one of carrot's API errors.
 */
export class ProvisionError extends Error {
  /** Always "ProvisionError". */
  override name = "ProvisionError";
}
