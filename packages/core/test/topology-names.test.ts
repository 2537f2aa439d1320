import { describe, expect, it } from "vitest";
import { Connection } from "../src/connection.js";
import { InvalidOptionsError } from "../src/errors.js";
import { Publisher } from "../src/publisher.js";
import { exchangeDeclaration, queueDeclaration } from "../src/topology-input.js";

// Queue and exchange names every backend keeps as written: what RabbitMQ
// would change (CR, LF) or cannot carry (over 255 bytes, not UTF-8) is
// refused at declare time, on every backend, so that names port. The
// amqplib tests show what RabbitMQ itself does with such names.

describe("queue and exchange names", () => {
  it.each([
    ["a\nb", /holds a line break \(CR or LF\)/],
    ["a\rb", /holds a line break/],
    ["orders\r\n", /holds a line break/],
    ["q".repeat(256), /is 256 bytes of UTF-8; AMQP names hold at most 255/],
    ["é".repeat(128), /is 256 bytes of UTF-8/],
    ["a\uD800b", /is not valid Unicode \(a lone surrogate\)/],
  ])("refuses %j as a queue or exchange name", (name, problem) => {
    expect(() => queueDeclaration({ name })).toThrow(InvalidOptionsError);
    expect(() => queueDeclaration({ name })).toThrow(problem);
    expect(() => exchangeDeclaration({ name })).toThrow(problem);
  });

  it.each(["q".repeat(255), `${"é".repeat(127)}q`, "tab\tand space and \u0000 and emoji 😀"])(
    "takes %j",
    (name) => {
      expect(queueDeclaration({ name }).name).toBe(name);
      expect(exchangeDeclaration({ name }).name).toBe(name);
    },
  );

  it("refuses them before connecting: declareQueue, and a Publisher's exchange at its first send", async () => {
    const connection = new Connection("memory://never-connected");
    await expect(connection.declareQueue({ name: "a\nb" })).rejects.toThrow(
      'queue name "a\\nb" holds a line break',
    );
    await expect(new Publisher(connection, { exchange: "x\n" }).send("m")).rejects.toThrow(
      'exchange name "x\\n" holds a line break',
    );
  });
});
