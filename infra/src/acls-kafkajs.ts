import kafkajs, { type AclEntry as KafkajsAcl, type Admin } from "kafkajs";
import type { AclEntry, AclOperation, AclResourceType } from "./acls.js";

// kafkajs is CommonJS and its enums are not visible as ESM named exports under Node.
const { AclOperationTypes, AclPermissionTypes, AclResourceTypes, ResourcePatternTypes } = kafkajs;

const RESOURCE: Record<AclResourceType, number> = {
  topic: AclResourceTypes.TOPIC,
  group: AclResourceTypes.GROUP,
  "transactional-id": AclResourceTypes.TRANSACTIONAL_ID,
};
const OPERATION: Record<AclOperation, number> = {
  Read: AclOperationTypes.READ,
  Write: AclOperationTypes.WRITE,
  Describe: AclOperationTypes.DESCRIBE,
  DescribeConfigs: AclOperationTypes.DESCRIBE_CONFIGS,
  Delete: AclOperationTypes.DELETE,
};

/** An entry as kafkajs' CreateAcls takes it: ALLOW, from any host. */
export function kafkajsAcl(entry: AclEntry): KafkajsAcl {
  return {
    resourceType: RESOURCE[entry.resourceType],
    resourceName: entry.name,
    resourcePatternType: entry.pattern === "prefixed" ? ResourcePatternTypes.PREFIXED : ResourcePatternTypes.LITERAL,
    principal: entry.principal,
    host: "*",
    operation: OPERATION[entry.operation],
    permissionType: AclPermissionTypes.ALLOW,
  };
}

/**
 * Creates the entries through the admin API (the admin principal needs Alter on the cluster). Kafka
 * keeps an ACL that exists already as it is, so applying twice changes nothing; ACLs not in `entries`
 * are left alone.
 */
export async function applyAcls(admin: Admin, entries: readonly AclEntry[]): Promise<void> {
  if (entries.length > 0) await admin.createAcls({ acl: entries.map(kafkajsAcl) });
}
