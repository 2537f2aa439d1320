import { describe, expect, it } from "vitest";
import { clientError, sanitizedCause } from "../src/client-errors.js";
import { AuthenticationError, ConnectionLostError } from "../src/errors.js";
import { leaks } from "./support/secret-leaks.js";

const SECRET = "s3cret-Pa55word-42";

/** As ioredis builds it after a wrong password: the failed command, password included. */
function replyError(): Error {
  const error = new Error("WRONGPASS invalid username-password pair or user is disabled.");
  Object.defineProperty(error, "name", { get: () => "ReplyError" });
  return Object.assign(error, { command: { name: "hello", args: ["3", "AUTH", "app", SECRET] } });
}

/** As the AWS SDK builds a refusal: the HTTP response kept, the signed request quoted. */
function awsError(): Error {
  const error = new Error(`signature mismatch; canonical request: x-amz-security-token:${SECRET}`);
  return Object.assign(error, {
    name: "SignatureDoesNotMatch",
    $fault: "client",
    $metadata: { httpStatusCode: 403, requestId: "r-1" },
    $response: { statusCode: 403, headers: { "x-amz-security-token": SECRET } },
  });
}

describe("sanitizedCause", () => {
  it("keeps the name, code, message and stack, and drops every other field", () => {
    const original = Object.assign(new Error("read ECONNRESET"), {
      code: "ECONNRESET",
      errno: -104,
      request: { headers: { authorization: SECRET } },
    });
    const copy = sanitizedCause(original);
    expect(copy.name).toBe("Error");
    expect(copy.message).toBe("read ECONNRESET");
    expect((copy as Error & { code?: string }).code).toBe("ECONNRESET");
    expect(copy.stack).toBe(original.stack);
    expect(Object.keys(copy)).toEqual(["code"]);
    expect(leaks([copy], [SECRET])).toEqual([]);
  });

  it("drops ioredis's failed command and the SDK's response", () => {
    for (const original of [replyError(), awsError()]) {
      expect(leaks([original], [SECRET])).not.toEqual([]);
      const copy = sanitizedCause(original, [SECRET]);
      expect(copy.name).toBe(original.name);
      expect(leaks([copy], [SECRET])).toEqual([]);
    }
  });

  it("redacts URLs and the given secrets in the message and the stack", () => {
    const original = new Error(`cannot reach redis://app:${SECRET}@cache:6379; AUTH ${SECRET}`);
    const copy = sanitizedCause(original, [SECRET]);
    expect(copy.message).toBe("cannot reach redis://app:***@cache:6379; AUTH ***");
    expect(copy.stack?.split("\n")[0]).toBe(`Error: ${copy.message}`);
  });

  it("copies the cause chain the same way, and stops in a cycle", () => {
    const inner = replyError();
    const outer = new Error("the connection failed", { cause: inner });
    inner.cause = outer;
    const copy = sanitizedCause(outer, [SECRET]);
    expect((copy.cause as Error).name).toBe("ReplyError");
    expect(leaks([copy], [SECRET])).toEqual([]);
  });

  it("turns what is not an Error into one, redacted", () => {
    expect(sanitizedCause(`failed AUTH ${SECRET}`, [SECRET]).message).toBe("failed AUTH ***");
  });
});

describe("clientError", () => {
  it("wraps a client's error in a carrot error with its code, cause sanitized", () => {
    const error = clientError(
      AuthenticationError,
      `redis refused the credentials (${SECRET})`,
      replyError(),
      { secrets: [SECRET], clientCode: "WRONGPASS" },
    );
    expect(error).toBeInstanceOf(AuthenticationError);
    expect(error.code).toBe("ERR_CARROT_AUTH");
    expect(error.clientCode).toBe("WRONGPASS");
    expect(error.message).toBe("redis refused the credentials (***)");
    expect((error.cause as Error).name).toBe("ReplyError");
    expect(error.stack?.split("\n")[1]).not.toContain("clientError");
    expect(leaks([error], [SECRET])).toEqual([]);
  });

  it("records the client's code, else its name", () => {
    const reset = Object.assign(new Error("socket hang up"), {
      name: "TimeoutError",
      code: "ECONNRESET",
    });
    expect(clientError(ConnectionLostError, "lost", reset).clientCode).toBe("ECONNRESET");
    expect(clientError(ConnectionLostError, "lost", awsError()).clientCode).toBe(
      "SignatureDoesNotMatch",
    );
    const refused = Object.assign(new Error("NOT_FOUND - no queue 'q'"), { code: 404 });
    expect(clientError(ConnectionLostError, "lost", refused).clientCode).toBe("404");
    expect(
      clientError(ConnectionLostError, "lost", new Error("closed")).clientCode,
    ).toBeUndefined();
    expect("clientCode" in new ConnectionLostError("lost")).toBe(false);
  });
});
