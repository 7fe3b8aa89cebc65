import { RELAY_SCAN_GROUP_PREFIX, RELAY_TRANSACTIONAL_ID_PREFIX, ruleErrorsGroup } from "@runhooks/api";
import { DEFAULT_DELIVERY_GROUP, deliveryGroup } from "@runhooks/delivery";
import { DEFAULT_EVALUATOR_GROUP, RULES_GROUP_PREFIX, evaluatorGroup } from "@runhooks/evaluator";
import { createKafka, describeKafkaSecurity, kafkaSecurityOf } from "@runhooks/kafka";
import {
  ACL_PRINCIPALS,
  DEFAULT_PRINCIPALS,
  aclCommands,
  runhooksAcls,
  type AclNames,
  type AclPrincipal,
  type Principals,
} from "./acls.js";
import { applyAcls } from "./acls-kafkajs.js";
import type { InfraEnv } from "./env.js";
import type { Report } from "./kafka-dist.js";
import { UsageError } from "./start-command.js";

export interface AclArgs {
  readonly apply: boolean;
  readonly principals: Principals;
  /** The admin client's properties file the printed commands name. */
  readonly commandConfig: string;
}

/** `[--apply] [--principal <who>=<Type:name>]… [--command-config <file>]`; anything else is a UsageError. */
export function parseAclArgs(args: readonly string[]): AclArgs {
  let apply = false;
  let commandConfig = "admin.properties";
  const principals: Record<AclPrincipal, string> = { ...DEFAULT_PRINCIPALS };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === "--apply") {
      apply = true;
      continue;
    }
    const value = args[i + 1];
    if ((arg !== "--principal" && arg !== "--command-config") || value === undefined) {
      throw new UsageError(`acls: unexpected ${arg}${value === undefined ? " (without a value)" : ""}`);
    }
    i++;
    if (arg === "--command-config") {
      commandConfig = value;
      continue;
    }
    const eq = value.indexOf("=");
    const who = value.slice(0, eq) as AclPrincipal;
    const principal = value.slice(eq + 1);
    if (eq < 0 || !ACL_PRINCIPALS.includes(who) || !/^[A-Za-z]+:.+$/.test(principal)) {
      throw new UsageError(
        `acls: --principal takes <who>=<Type:name> with <who> one of ${ACL_PRINCIPALS.join(", ")}, e.g. evaluator=User:rh-evaluator`,
      );
    }
    principals[who] = principal;
  }
  return { apply, principals, commandConfig };
}

/**
 * The default prefix's group a service looks up at start (its variable unset under another prefix:
 * its checkpoints may be there), or undefined when it does not look.
 */
function lookedUp(configured: string | undefined, derived: string, legacy: string): string | undefined {
  return configured === undefined && derived !== legacy ? legacy : undefined;
}

/** The groups and transactional ids the services use with this environment. */
export function aclNamesOf(env: InfraEnv): AclNames {
  const prefix = env.RUNHOOKS_TOPIC_PREFIX;
  const legacyEvaluatorGroup = lookedUp(env.RUNHOOKS_EVALUATOR_GROUP, evaluatorGroup(prefix), DEFAULT_EVALUATOR_GROUP);
  const legacyDeliveryGroup = lookedUp(env.RUNHOOKS_DELIVERY_GROUP, deliveryGroup(prefix), DEFAULT_DELIVERY_GROUP);
  return {
    topicPrefix: prefix,
    evaluatorGroup: env.RUNHOOKS_EVALUATOR_GROUP ?? evaluatorGroup(prefix),
    evaluatorRulesGroupPrefix: RULES_GROUP_PREFIX,
    deliveryGroup: env.RUNHOOKS_DELIVERY_GROUP ?? deliveryGroup(prefix),
    apiRuleErrorsGroup: env.RUNHOOKS_API_RULE_ERRORS_GROUP ?? ruleErrorsGroup(prefix),
    relayScanGroupPrefix: RELAY_SCAN_GROUP_PREFIX,
    relayTransactionalIdPrefix: RELAY_TRANSACTIONAL_ID_PREFIX,
    ...(legacyEvaluatorGroup === undefined ? {} : { legacyEvaluatorGroup }),
    ...(legacyDeliveryGroup === undefined ? {} : { legacyDeliveryGroup }),
  };
}

/**
 * `acls`: prints the ACLs of every principal as `kafka-acls.sh` commands, or with `--apply` creates
 * them on KAFKA_BROKERS through the admin API, as the principal the Kafka security settings name.
 */
export async function runAclsCommand(env: InfraEnv, args: readonly string[], out: Report): Promise<number> {
  const parsed = parseAclArgs(args);
  const names = aclNamesOf(env);
  const entries = runhooksAcls(names, parsed.principals);
  const legacy = [names.legacyEvaluatorGroup, names.legacyDeliveryGroup].filter((g) => g !== undefined);
  const legacyNote =
    `Describe on ${legacy.join(" and ")}: with RUNHOOKS_EVALUATOR_GROUP / RUNHOOKS_DELIVERY_GROUP unset, ` +
    `the services look for this deployment's checkpoints there at start; setting the variables skips the lookup ` +
    `(and grants Read on a group kept: docs/operating.md).`;
  if (!parsed.apply) {
    const bootstrap = env.KAFKA_BROKERS?.join(",") ?? `127.0.0.1:${env.RUNHOOKS_KAFKA_PORT}`;
    out(`# ACLs for runhooks (topic prefix ${env.RUNHOOKS_TOPIC_PREFIX}); run them as an admin principal.`);
    out(`# ${parsed.commandConfig}: that admin's security.protocol, sasl.mechanism and sasl.jaas.config.`);
    if (legacy.length > 0) out(`# ${legacyNote}`);
    for (const line of aclCommands(entries, { bootstrap, commandConfig: parsed.commandConfig })) out(line);
    return 0;
  }
  if (env.KAFKA_BROKERS === undefined) {
    throw new UsageError(
      "acls --apply needs KAFKA_BROKERS (and the admin's KAFKA_SASL_*/KAFKA_TLS_* settings): the local broker has no authorizer",
    );
  }
  const security = kafkaSecurityOf(env);
  const admin = createKafka({
    brokers: env.KAFKA_BROKERS,
    security,
    clientId: "runhooks-infra-acls",
    logLevel: "error",
  }).admin();
  await admin.connect();
  try {
    await applyAcls(admin, entries);
  } finally {
    await admin.disconnect();
  }
  out(`applied ${entries.length} ACLs on ${env.KAFKA_BROKERS.join(",")} (${describeKafkaSecurity(security)}):`);
  for (const who of ACL_PRINCIPALS) {
    out(`  ${parsed.principals[who]}: ${entries.filter((e) => e.principal === parsed.principals[who]).length}`);
  }
  if (legacy.length > 0) out(legacyNote);
  return 0;
}
