import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

/** A CA and a server certificate it signed for 127.0.0.1, as files and as PEM. */
export interface TestCertificates {
  /** The folder that holds ca.crt, server.crt and server.key. */
  dir: string;
  /** The CA certificate (PEM): what a client trusts (`tls: { ca }`). */
  ca: Buffer;
  /** The server certificate (PEM), for 127.0.0.1, signed by `ca`. */
  cert: Buffer;
  /** The server certificate's private key (PEM). */
  key: Buffer;
  /** Deletes the folder. */
  remove(): Promise<void>;
}

/**
 * Makes certificates for a TLS server a test starts (a TLS-only Redis, a TLS
 * port in front of RabbitMQ), with the machine's openssl, valid for a day.
 */
export async function makeTestCertificates(): Promise<TestCertificates> {
  const dir = await mkdtemp(join(tmpdir(), "carrot-tls-"));
  const openssl = (...args: string[]) => run("openssl", args, { cwd: dir });
  const subject = (name: string) => ["-newkey", "rsa:2048", "-nodes", "-subj", `/CN=${name}`];
  await openssl(
    "req",
    "-x509",
    ...subject("carrot-test-ca"),
    "-days",
    "1",
    "-keyout",
    "ca.key",
    "-out",
    "ca.crt",
  );
  await openssl("req", ...subject("127.0.0.1"), "-keyout", "server.key", "-out", "server.csr");
  await writeFile(join(dir, "san.cnf"), "subjectAltName=IP:127.0.0.1\n");
  await openssl(
    "x509",
    "-req",
    "-days",
    "1",
    "-in",
    "server.csr",
    "-CA",
    "ca.crt",
    "-CAkey",
    "ca.key",
    "-CAcreateserial",
    "-extfile",
    "san.cnf",
    "-out",
    "server.crt",
  );
  const [ca, cert, key] = await Promise.all(
    ["ca.crt", "server.crt", "server.key"].map((file) => readFile(join(dir, file))),
  );
  return {
    dir,
    ca: ca as Buffer,
    cert: cert as Buffer,
    key: key as Buffer,
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}
