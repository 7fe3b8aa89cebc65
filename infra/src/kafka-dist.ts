import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { run } from "./proc.js";
import { InfraError } from "./errors.js";

export type Report = (line: string) => void;

/** The SLF4J 1.x binding that matches Kafka 3.9's logging (reload4j, the maintained log4j 1 fork). */
const SLF4J_BINDING = { groupId: "org.slf4j", artifactId: "slf4j-reload4j", version: "1.7.36" };

function pom(version: string): string {
  return `<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>dev.runhooks.local</groupId>
  <artifactId>kafka-fetch</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>${version}</version></dependency>
    <dependency><groupId>${SLF4J_BINDING.groupId}</groupId><artifactId>${SLF4J_BINDING.artifactId}</artifactId><version>${SLF4J_BINDING.version}</version></dependency>
  </dependencies>
</project>
`;
}

/** Folder of the jars of one Kafka version; present only once complete (it is renamed into place). */
export function kafkaLibDir(cacheDir: string, version: string): string {
  return join(cacheDir, `kafka-${version}`, "libs");
}

/**
 * Resolves Apache Kafka from Maven Central with a throwaway pom and `mvn dependency:copy-dependencies`,
 * caching the jars under `cacheDir`. A cached copy is reused; an interrupted fetch leaves nothing behind.
 */
export async function ensureKafkaDist(options: {
  cacheDir: string;
  version: string;
  report: Report;
  mvn?: string;
}): Promise<string> {
  const libs = kafkaLibDir(options.cacheDir, options.version);
  if (existsSync(join(libs, `kafka_2.13-${options.version}.jar`))) return libs;

  const mvn = options.mvn ?? "mvn";
  const probe = await run(mvn, ["-v"]);
  if (probe.code !== 0) {
    throw new InfraError(
      "maven_missing",
      `Maven (${mvn}) was not found, and it is needed once to fetch Apache Kafka ${options.version}. ` +
        "Install it (Debian/Ubuntu: apt install maven), or set KAFKA_BROKERS to use an existing Kafka cluster.",
    );
  }
  options.report(`fetching Apache Kafka ${options.version} from Maven Central (one time, about 46 MB)…`);
  await mkdir(options.cacheDir, { recursive: true });
  const work = await mkdtemp(join(options.cacheDir, ".fetch-"));
  try {
    await writeFile(join(work, "pom.xml"), pom(options.version));
    const out = join(work, "libs");
    const result = await run(
      mvn,
      [
        "-B",
        "-q",
        "-f",
        join(work, "pom.xml"),
        "dependency:copy-dependencies",
        `-DoutputDirectory=${out}`,
        "-DincludeScope=runtime",
      ],
      { cwd: work },
    );
    if (result.code !== 0) {
      const detail = (result.stdout + result.stderr).trim().split("\n").slice(-10).join("\n");
      throw new InfraError(
        "kafka_fetch_failed",
        `could not fetch Apache Kafka ${options.version} from Maven Central (mvn exited ${result.code}). ` +
          `Check network access to repo.maven.apache.org, or set KAFKA_BROKERS.\n${detail}`,
      );
    }
    await mkdir(join(options.cacheDir, `kafka-${options.version}`), { recursive: true });
    await rename(out, libs);
    options.report(`Apache Kafka ${options.version} cached in ${libs}`);
    return libs;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
