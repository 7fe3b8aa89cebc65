import { describe, expect, it } from "vitest";
import { aclCommands, runhooksAcls, type AclEntry, type AclNames } from "../src/acls.js";
import { aclNamesOf, parseAclArgs } from "../src/acls-command.js";
import { kafkajsAcl } from "../src/acls-kafkajs.js";
import { readInfraEnv } from "../src/env.js";

const names: AclNames = {
  topicPrefix: "acme",
  evaluatorGroup: "acme-evaluator",
  evaluatorRulesGroupPrefix: "rules-",
  deliveryGroup: "acme-delivery",
  apiRuleErrorsGroup: "acme-api-rule-errors",
  relayScanGroupPrefix: "scan-",
  relayTransactionalIdPrefix: "relay-",
};

/** `resource pattern name operation`, one line per entry of a principal. */
const grants = (entries: readonly AclEntry[], principal: string) =>
  entries
    .filter((e) => e.principal === principal)
    .map((e) => `${e.resourceType} ${e.pattern} ${e.name} ${e.operation}`)
    .sort();

const expected: [string, string[]][] = [
  [
    "User:runhooks-api",
    [
      "group literal acme-api-rule-errors Read",
      "group prefixed scan- Read",
      "topic literal acme.rule-errors DescribeConfigs",
      "topic literal acme.rule-errors Read",
      "topic literal acme.rules DescribeConfigs",
      "topic literal acme.rules Read",
      "topic literal acme.rules Write",
      "topic literal acme.runs Describe",
      "transactional-id prefixed relay- Write",
    ],
  ],
  ["User:runhooks-ingest", ["topic literal acme.runs DescribeConfigs", "topic literal acme.runs Write"]],
  [
    "User:runhooks-evaluator",
    [
      "group literal acme-evaluator Read",
      "group prefixed rules- Read",
      "topic literal acme.rule-errors Write",
      "topic literal acme.rules Read",
      "topic literal acme.rules Write",
      "topic literal acme.runs Read",
      "topic literal acme.runs Write",
      "topic literal acme.runs.dlq Write",
      "topic literal acme.traces Read",
      "topic literal acme.traces Write",
      "topic literal acme.windows Write",
    ],
  ],
  [
    "User:runhooks-delivery",
    [
      "group literal acme-delivery Read",
      "group literal acme-evaluator Describe",
      "group prefixed acme.backfill. Delete",
      "group prefixed acme.backfill. Read",
      "topic literal acme.attempts Write",
      "topic literal acme.events Write",
      "topic literal acme.runs Describe",
      "topic literal acme.runs Read",
      "topic literal acme.windows Read",
      "topic literal acme.windows.dlq Write",
    ],
  ],
  ["User:runhooks-producer", ["topic literal acme.runs Write"]],
];

describe("the ACLs of each principal", () => {
  const entries = runhooksAcls(names);

  it.each(expected)("%s gets exactly what its code uses", (principal, lines) => {
    expect(grants(entries, principal)).toEqual(lines);
  });

  it("grants nothing to anyone else, and says why for each grant", () => {
    expect(new Set(entries.map((e) => e.principal))).toEqual(new Set(expected.map(([p]) => p)));
    for (const e of entries) expect(e.why.length).toBeGreaterThan(5);
  });

  it("uses the principals it is given", () => {
    const custom = runhooksAcls(names, {
      api: "User:a",
      ingest: "User:i",
      evaluator: "User:e",
      delivery: "User:d",
      producer: "User:acme-sdk",
    });
    expect(grants(custom, "User:acme-sdk")).toEqual(["topic literal acme.runs Write"]);
    expect(grants(custom, "User:e")).toEqual(expected[2]![1]);
  });

  it("names the services' own groups and ids when read from the environment", () => {
    const env = readInfraEnv({ RUNHOOKS_TOPIC_PREFIX: "acme", RUNHOOKS_DELIVERY_GROUP: "acme-dlv" });
    expect(aclNamesOf(env)).toEqual({
      topicPrefix: "acme",
      evaluatorGroup: "acme-evaluator",
      evaluatorRulesGroupPrefix: "runhooks-evaluator-rules-",
      deliveryGroup: "acme-dlv",
      apiRuleErrorsGroup: "acme-api-rule-errors",
      relayScanGroupPrefix: "runhooks-relay-scan-",
      relayTransactionalIdPrefix: "runhooks-outbox-relay-",
      legacyEvaluatorGroup: "runhooks-evaluator",
    });
  });

  it.each([
    ["a custom prefix, no variable", { RUNHOOKS_TOPIC_PREFIX: "acme" }, ["runhooks-evaluator", "runhooks-delivery"]],
    ["the default prefix", {}, [undefined, undefined]],
    [
      "both variables set",
      { RUNHOOKS_TOPIC_PREFIX: "acme", RUNHOOKS_EVALUATOR_GROUP: "e", RUNHOOKS_DELIVERY_GROUP: "d" },
      [undefined, undefined],
    ],
  ])("looks up the default prefix's groups only when the services do: %s", (_, env, [evaluator, delivery]) => {
    const n = aclNamesOf(readInfraEnv(env));
    expect([n.legacyEvaluatorGroup, n.legacyDeliveryGroup]).toEqual([evaluator, delivery]);
  });

  it("grants Describe on the default prefix's groups to the principals that look them up", () => {
    const entries = runhooksAcls({
      ...names,
      legacyEvaluatorGroup: "runhooks-evaluator",
      legacyDeliveryGroup: "runhooks-delivery",
    });
    const legacy = (principal: string) => grants(entries, principal).filter((g) => g.includes(" runhooks-"));
    expect(legacy("User:runhooks-evaluator")).toEqual(["group literal runhooks-evaluator Describe"]);
    expect(legacy("User:runhooks-delivery")).toEqual([
      "group literal runhooks-delivery Describe",
      "group literal runhooks-evaluator Describe",
    ]);
    for (const other of ["User:runhooks-api", "User:runhooks-ingest", "User:runhooks-producer"]) {
      expect(legacy(other)).toEqual([]);
    }
  });
});

describe("the ACLs as kafka-acls.sh commands", () => {
  const target = { bootstrap: "b-1.example:9096", commandConfig: "admin.properties" };
  const head = "kafka-acls.sh --bootstrap-server b-1.example:9096 --command-config admin.properties --add";

  it.each([
    [
      "one command per resource, its operations together",
      runhooksAcls(names).filter((e) => e.principal === "User:runhooks-ingest"),
      [
        "# User:runhooks-ingest: produces the runs it accepts; checks the topic's declared settings at start",
        `${head} --allow-principal User:runhooks-ingest --operation Write --operation DescribeConfigs --topic acme.runs`,
      ],
    ],
    [
      "prefixed resources",
      runhooksAcls(names).filter((e) => e.resourceType === "transactional-id"),
      [
        "# User:runhooks-api: the relay's transactional producer (it fences an earlier relay)",
        `${head} --allow-principal User:runhooks-api --operation Write --transactional-id relay- --resource-pattern-type prefixed`,
      ],
    ],
    [
      "a principal the shell would split, quoted",
      [{ ...runhooksAcls(names).at(-1)!, principal: "User:CN=acme sdk,O=it's" }],
      [
        "# User:CN=acme sdk,O=it's: writes runs, and nothing else",
        `${head} --allow-principal 'User:CN=acme sdk,O=it'\\''s' --operation Write --topic acme.runs`,
      ],
    ],
  ])("%s", (_name, entries, lines) => {
    expect(aclCommands(entries, target)).toEqual(lines);
  });
});

describe("the ACLs through the admin API", () => {
  // Kafka's protocol codes: resource TOPIC 2, GROUP 3, TRANSACTIONAL_ID 5; pattern LITERAL 3, PREFIXED 4;
  // operation READ 3, WRITE 4, DESCRIBE 8, DESCRIBE_CONFIGS 10; permission ALLOW 3.
  const entries = runhooksAcls(names);
  const one = (resourceType: string, operation: string) =>
    entries.find((e) => e.resourceType === resourceType && e.operation === operation)!;

  it.each([
    ["topic Write", one("topic", "Write"), { resourceType: 2, resourcePatternType: 3, operation: 4 }],
    [
      "topic DescribeConfigs",
      one("topic", "DescribeConfigs"),
      { resourceType: 2, resourcePatternType: 3, operation: 10 },
    ],
    ["topic Describe", one("topic", "Describe"), { resourceType: 2, resourcePatternType: 3, operation: 8 }],
    ["group Read", one("group", "Read"), { resourceType: 3, resourcePatternType: 3, operation: 3 }],
    [
      "prefixed transactional-id Write",
      one("transactional-id", "Write"),
      { resourceType: 5, resourcePatternType: 4, operation: 4 },
    ],
  ])("maps a %s grant to CreateAcls' codes", (_name, entry, codes) => {
    expect(kafkajsAcl(entry)).toEqual({
      ...codes,
      resourceName: entry.name,
      principal: entry.principal,
      host: "*",
      permissionType: 3,
    });
  });
});

describe("acls arguments", () => {
  it.each([
    [[], { apply: false, commandConfig: "admin.properties", producer: "User:runhooks-producer" }],
    [["--apply"], { apply: true, commandConfig: "admin.properties", producer: "User:runhooks-producer" }],
    [
      ["--principal", "producer=User:acme-sdk", "--command-config", "/etc/kafka/admin.conf"],
      { apply: false, commandConfig: "/etc/kafka/admin.conf", producer: "User:acme-sdk" },
    ],
  ])("%j", (args, want) => {
    const parsed = parseAclArgs(args);
    expect({ apply: parsed.apply, commandConfig: parsed.commandConfig, producer: parsed.principals.producer }).toEqual(
      want,
    );
  });

  it.each([
    [["--principal"], /without a value/],
    [["--principal", "sdk=User:x"], /one of api, ingest, evaluator, delivery, producer/],
    [["--principal", "producer=acme"], /<Type:name>/],
    [["--force"], /unexpected --force/],
  ])("refuses %j", (args, message) => {
    expect(() => parseAclArgs(args)).toThrow(message);
  });
});
