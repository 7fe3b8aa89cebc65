import { topicNames } from "@runhooks/kafka";

/** Who gets ACLs: each runhooks service, and the producers that write runs straight to Kafka. */
export const ACL_PRINCIPALS = ["api", "ingest", "evaluator", "delivery", "producer"] as const;
export type AclPrincipal = (typeof ACL_PRINCIPALS)[number];
export type Principals = Readonly<Record<AclPrincipal, string>>;

export const DEFAULT_PRINCIPALS: Principals = {
  api: "User:runhooks-api",
  ingest: "User:runhooks-ingest",
  evaluator: "User:runhooks-evaluator",
  delivery: "User:runhooks-delivery",
  producer: "User:runhooks-producer",
};

/** The names the services use besides their topics: consumer groups and transactional ids. */
export interface AclNames {
  readonly topicPrefix: string;
  /** RUNHOOKS_EVALUATOR_GROUP */
  readonly evaluatorGroup: string;
  /** The prefix of each evaluator instance's private groups over the rules topic. */
  readonly evaluatorRulesGroupPrefix: string;
  /** RUNHOOKS_DELIVERY_GROUP */
  readonly deliveryGroup: string;
  /**
   * The default prefix's groups (`runhooks-evaluator`, `runhooks-delivery`) whose committed offsets a
   * service looks up at start, when its variable is unset under another prefix (group-id.ts in
   * packages/kafka); undefined when it does not look.
   */
  readonly legacyEvaluatorGroup?: string | undefined;
  readonly legacyDeliveryGroup?: string | undefined;
  /** RUNHOOKS_API_RULE_ERRORS_GROUP, or its default for the prefix. */
  readonly apiRuleErrorsGroup: string;
  /** The prefix of the outbox relay's throw-away groups that read the rules topic's tail. */
  readonly relayScanGroupPrefix: string;
  /** The prefix of the outbox relay's transactional ids. */
  readonly relayTransactionalIdPrefix: string;
}

export type AclResourceType = "topic" | "group" | "transactional-id";
/** Kafka's operation names. Describe is not listed where Read or Write implies it. */
export type AclOperation = "Read" | "Write" | "Describe" | "DescribeConfigs" | "Delete";

/** One ALLOW rule, for any host. */
export interface AclEntry {
  readonly principal: string;
  readonly resourceType: AclResourceType;
  readonly pattern: "literal" | "prefixed";
  readonly name: string;
  readonly operation: AclOperation;
  /** What the code does that needs it. */
  readonly why: string;
}

type Rule = Omit<AclEntry, "principal">;
const topic = (name: string, operation: AclOperation, why: string): Rule => ({
  resourceType: "topic",
  pattern: "literal",
  name,
  operation,
  why,
});
const group = (name: string, pattern: AclEntry["pattern"], why: string): Rule => ({
  resourceType: "group",
  pattern,
  name,
  operation: "Read",
  why,
});
/** Describe on a legacy group, if the service looks it up; no rule when it does not. */
const describeLegacy = (name: string | undefined, why: string): Rule[] =>
  name === undefined ? [] : [{ ...group(name, "literal", why), operation: "Describe" }];

/**
 * The ACLs each principal needs and nothing more, derived from what the services do (DESIGN.md §2):
 * topics read and written, the topic settings checked at start, consumer groups, the relay's
 * transactional ids. No principal may create or delete topics or touch ACLs: an admin principal
 * (`npm run infra -- up`) creates the topics. Pure: a function of the names and principals.
 */
export function runhooksAcls(names: AclNames, principals: Principals = DEFAULT_PRINCIPALS): AclEntry[] {
  const t = topicNames(names.topicPrefix);
  const rules: Record<AclPrincipal, Rule[]> = {
    api: [
      topic(t.rules, "Write", "the outbox relay publishes rule versions"),
      topic(t.rules, "Read", "the relay reads the topic's tail when it takes over"),
      topic(t.rules, "DescribeConfigs", "checks the topic's declared settings at start"),
      topic(t.runs, "Describe", "checks a backfill's range against the runs topic's retention"),
      topic(t.ruleErrors, "Read", "stores rule errors for GET /rules/:id/errors"),
      topic(t.ruleErrors, "DescribeConfigs", "checks the topic's declared settings at start"),
      group(names.apiRuleErrorsGroup, "literal", "its rule-errors consumer group"),
      group(names.relayScanGroupPrefix, "prefixed", "the relay's throw-away groups reading the tail"),
      {
        resourceType: "transactional-id",
        pattern: "prefixed",
        name: names.relayTransactionalIdPrefix,
        operation: "Write",
        why: "the relay's transactional producer (it fences an earlier relay)",
      },
    ],
    ingest: [
      topic(t.runs, "Write", "produces the runs it accepts"),
      topic(t.runs, "DescribeConfigs", "checks the topic's declared settings at start"),
    ],
    evaluator: [
      topic(t.runs, "Read", "folds runs into windows"),
      topic(t.runs, "Write", "appends ticks to idle partitions"),
      topic(t.rules, "Read", "every instance reads every rule version"),
      topic(t.rules, "Write", "appends ticks to read past a time"),
      topic(t.windows, "Write", "window parts and watermarks"),
      topic(t.runsDlq, "Write", "runs it cannot accept"),
      topic(t.ruleErrors, "Write", "rule versions whose filter failed"),
      topic(t.traces, "Write", "trace snapshots, before the commit that names them"),
      topic(t.traces, "Read", "a restarted partition reads the snapshot its checkpoint names"),
      group(names.evaluatorGroup, "literal", "the runs consumer group"),
      group(
        names.evaluatorRulesGroupPrefix,
        "prefixed",
        "each instance's private groups over the rules topic and its trace snapshots",
      ),
      ...describeLegacy(names.legacyEvaluatorGroup, "looks up the default prefix's group's checkpoints at start"),
    ],
    delivery: [
      topic(t.windows, "Read", "assembles windows into deliveries"),
      topic(t.runs, "Describe", "counts the runs partitions a window must be complete over"),
      topic(t.attempts, "Write", "one record per webhook attempt"),
      topic(t.windowsDlq, "Write", "window messages it refuses, with the reason"),
      topic(t.events, "Write", "operational events: deliveries given up, webhooks disabled and recovered"),
      group(names.deliveryGroup, "literal", "the windows consumer group"),
      // The backfill service runs as delivery's principal (it stores windows and deliveries as delivery does).
      topic(t.runs, "Read", "backfill: reads the runs of a backfill's range"),
      group(`${names.topicPrefix}.backfill.`, "prefixed", "backfill: one throw-away group per backfill run"),
      {
        ...group(`${names.topicPrefix}.backfill.`, "prefixed", "backfill: deletes its group when done"),
        operation: "Delete",
      },
      {
        ...group(names.evaluatorGroup, "literal", "backfill: reads the live evaluators' lag to give way"),
        operation: "Describe",
      },
      ...describeLegacy(names.legacyDeliveryGroup, "looks up the default prefix's group's checkpoints at start"),
      ...describeLegacy(
        names.legacyEvaluatorGroup,
        "backfill: looks up the default prefix's evaluator group's checkpoints at start",
      ),
    ],
    producer: [topic(t.runs, "Write", "writes runs, and nothing else")],
  };
  return ACL_PRINCIPALS.flatMap((who) => rules[who].map((rule) => ({ principal: principals[who], ...rule })));
}

const SAFE = /^[A-Za-z0-9@%+=:,./_-]+$/;
const quote = (arg: string) => (SAFE.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`);
const RESOURCE_FLAG: Record<AclResourceType, string> = {
  topic: "--topic",
  group: "--group",
  "transactional-id": "--transactional-id",
};

/**
 * The entries as `kafka-acls.sh` commands: one per principal and resource (its operations together),
 * each after a comment saying why. `commandConfig` is the admin client's properties file.
 */
export function aclCommands(
  entries: readonly AclEntry[],
  target: { readonly bootstrap: string; readonly commandConfig: string },
): string[] {
  const byResource = new Map<string, AclEntry[]>();
  for (const e of entries) {
    const key = JSON.stringify([e.principal, e.resourceType, e.pattern, e.name]);
    byResource.set(key, [...(byResource.get(key) ?? []), e]);
  }
  return [...byResource.values()].flatMap((same) => {
    const first = same[0]!;
    const args = [
      "kafka-acls.sh",
      "--bootstrap-server",
      target.bootstrap,
      "--command-config",
      target.commandConfig,
      "--add",
      "--allow-principal",
      first.principal,
      ...same.flatMap((e) => ["--operation", e.operation]),
      RESOURCE_FLAG[first.resourceType],
      first.name,
      ...(first.pattern === "prefixed" ? ["--resource-pattern-type", "prefixed"] : []),
    ];
    return [`# ${first.principal}: ${same.map((e) => e.why).join("; ")}`, args.map(quote).join(" ")];
  });
}
