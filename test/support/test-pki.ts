import { execFile } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";

const exec = promisify(execFile);

/** The name the broker's certificate is issued to; clients check it through KAFKA_TLS_SERVERNAME. */
export const BROKER_NAME = "kafka.test";

export interface TestPki {
  /** PEM of the test CA: what clients trust (KAFKA_TLS_CA). */
  readonly ca: string;
  /** PKCS12 stores for the broker (its key and chain; the CA it checks client certificates against). */
  readonly keystore: string;
  readonly truststore: string;
  readonly storePassword: string;
  /** A client certificate and key issued by the CA to `CN=<name>` (mutual TLS). */
  clientCertificate(name: string): Promise<{ readonly cert: string; readonly key: string }>;
  /** A certificate and key from another CA: a client the broker must not trust. */
  strangerCertificate(): Promise<{ readonly cert: string; readonly key: string; readonly ca: string }>;
}

async function openssl(dir: string, ...args: string[]): Promise<void> {
  await exec("openssl", args, { cwd: dir });
}

/** A P-256 key and a request for `subject`. */
async function request(dir: string, name: string, subject: string): Promise<void> {
  await openssl(
    dir,
    "req",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:prime256v1",
    "-nodes",
    "-keyout",
    `${name}.key`,
    "-out",
    `${name}.csr`,
    "-subj",
    subject,
  );
}

async function selfSigned(dir: string, name: string, subject: string): Promise<void> {
  await openssl(
    dir,
    "req",
    "-x509",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:prime256v1",
    "-nodes",
    "-days",
    "2",
    "-keyout",
    `${name}.key`,
    "-out",
    `${name}.pem`,
    "-subj",
    subject,
  );
}

async function sign(dir: string, name: string, ca: string, extensions?: string): Promise<void> {
  const ext = extensions === undefined ? [] : ["-extfile", `${name}.ext`];
  if (extensions !== undefined) await writeFile(join(dir, `${name}.ext`), `${extensions}\n`);
  await openssl(
    dir,
    "x509",
    "-req",
    "-in",
    `${name}.csr`,
    "-CA",
    `${ca}.pem`,
    "-CAkey",
    `${ca}.key`,
    "-CAcreateserial",
    "-days",
    "2",
    "-out",
    `${name}.pem`,
    ...ext,
  );
}

/**
 * A throw-away PKI in `dir`, made with openssl and keytool as an operator would: a CA, the broker's
 * certificate for `kafka.test` and 127.0.0.1 (the broker reaches itself by address), its PKCS12
 * keystore and a truststore holding the CA.
 */
export async function createTestPki(dir: string, storePassword: string): Promise<TestPki> {
  await selfSigned(dir, "ca", "/CN=runhooks test CA");
  await request(dir, "broker", `/CN=${BROKER_NAME}`);
  await sign(dir, "broker", "ca", `subjectAltName=DNS:${BROKER_NAME},IP:127.0.0.1`);
  const keystore = join(dir, "broker.p12");
  const truststore = join(dir, "trust.p12");
  await openssl(
    dir,
    "pkcs12",
    "-export",
    "-name",
    "broker",
    "-in",
    "broker.pem",
    "-inkey",
    "broker.key",
    "-certfile",
    "ca.pem",
    "-out",
    keystore,
    "-passout",
    `pass:${storePassword}`,
  );
  await exec("keytool", [
    "-importcert",
    "-noprompt",
    "-alias",
    "ca",
    "-file",
    join(dir, "ca.pem"),
    "-keystore",
    truststore,
    "-storetype",
    "PKCS12",
    "-storepass",
    storePassword,
  ]);
  const pair = async (name: string) => ({
    cert: await readFile(join(dir, `${name}.pem`), "utf8"),
    key: await readFile(join(dir, `${name}.key`), "utf8"),
  });
  return {
    ca: await readFile(join(dir, "ca.pem"), "utf8"),
    keystore,
    truststore,
    storePassword,
    async clientCertificate(name) {
      await request(dir, `client-${name}`, `/CN=${name}`);
      await sign(dir, `client-${name}`, "ca");
      return pair(`client-${name}`);
    },
    async strangerCertificate() {
      await selfSigned(dir, "stranger-ca", "/CN=someone else's CA");
      await request(dir, "stranger", "/CN=runhooks-delivery");
      await sign(dir, "stranger", "stranger-ca");
      return { ...(await pair("stranger")), ca: await readFile(join(dir, "stranger-ca.pem"), "utf8") };
    },
  };
}
