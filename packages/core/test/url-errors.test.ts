import { describe, expect, it } from "vitest";
import { Connection } from "../src/connection.js";
import { InvalidOptionsError } from "../src/errors.js";
import { parseBrokerUrl } from "../src/url-form.js";
import { leaks } from "./support/secret-leaks.js";

describe("a broker URL that does not parse", () => {
  const secret = "PW-s3cret";

  it.each([
    `amqp://guest:${secret}@[::1`,
    `redis://user:${secret}@host:notaport`,
    `sqs://key:${secret}@host:99999`,
    `memory://u:${secret}@[`,
  ])("%s: an InvalidOptionsError whose message, causes and inspect() hold no password", (url) => {
    const error = (() => {
      try {
        new Connection(url);
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(InvalidOptionsError);
    expect(leaks([error], [secret])).toEqual([]);
  });

  it("is told with what is wrong and what to write, and keeps no parser error (it quotes the URL)", () => {
    expect(() =>
      parseBrokerUrl(`redis://u:${secret}@h:x`, "redis://u:***@…", "redis://host:6379"),
    ).toThrow(
      "redis://u:***@… is not a valid URL (the port 'x' is not a number); expected redis://host:6379",
    );
    try {
      parseBrokerUrl(`redis://u:${secret}@[`, "shown", "x");
    } catch (error) {
      expect((error as Error).cause).toBeUndefined();
    }
  });
});
