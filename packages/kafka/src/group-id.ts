import { DEFAULT_TOPIC_PREFIX } from "./topics.js";

/** A service's consumer group as its environment names it, and where its checkpoints may already be. */
export interface GroupIdSettings {
  /** The service's variable (e.g. RUNHOOKS_EVALUATOR_GROUP), named in the warning. */
  readonly variable: string;
  /** Its value; undefined when unset. */
  readonly configured: string | undefined;
  /** The group when the variable is unset: `<prefix>-<service>`. */
  readonly derived: string;
  /**
   * The group of the default prefix (`runhooks-<service>`), where a deployment under another prefix
   * that never set the variable may keep its checkpoints (docs/operating.md, Upgrading).
   */
  readonly legacy: string;
  /** The topic whose checkpoints the group holds (the service's own). */
  readonly topic: string;
}

/** Which committed offsets of `topic` exist (any partition at an offset ≥ 0). */
export interface GroupCheckpoints {
  readonly derived: boolean;
  readonly legacy: boolean;
}

export type GroupIdChoice =
  | { readonly kind: "configured"; readonly groupId: string }
  | { readonly kind: "derived"; readonly groupId: string }
  /** Only the legacy group holds checkpoints of the topic: it stays, with a warning saying what to do. */
  | { readonly kind: "legacy"; readonly groupId: string; readonly derived: string; readonly warning: string };

/** `<prefix>-<service>`: a service's group when its variable is unset (one per prefix, as its topics). */
export function prefixedGroup(topicPrefix: string, service: string): string {
  return `${topicPrefix}-${service}`;
}

/** The group of the default prefix: `runhooks-<service>`. */
export function legacyGroup(service: string): string {
  return prefixedGroup(DEFAULT_TOPIC_PREFIX, service);
}

/** Whether the choice turns on committed offsets: the variable unset, and a prefix other than the default. */
export function checkpointsDecide(s: GroupIdSettings): boolean {
  return s.configured === undefined && s.derived !== s.legacy;
}

/**
 * The group a service joins. The variable wins when set. Unset, the prefix's own group, unless it
 * holds no checkpoints of the service's topic while the legacy group does: those are this
 * deployment's, and joining an empty group would read the topic again from its start.
 */
export function chooseGroupId(s: GroupIdSettings, committed: GroupCheckpoints): GroupIdChoice {
  if (s.configured !== undefined) return { kind: "configured", groupId: s.configured };
  if (!checkpointsDecide(s) || committed.derived || !committed.legacy) return { kind: "derived", groupId: s.derived };
  return {
    kind: "legacy",
    groupId: s.legacy,
    derived: s.derived,
    warning:
      `consumer group ${s.legacy} holds the checkpoints of ${s.topic} and ${s.derived} none: staying in ${s.legacy}. ` +
      `Set ${s.variable}=${s.legacy} to keep it and silence this; or leave it so, knowing that every deployment ` +
      `whose group is ${s.legacy} rebalances with this one. Under ACLs this group needs Read as well as ` +
      `Describe: set the variable, then run \`infra acls\` again (docs/operating.md, Upgrading).`,
  };
}
