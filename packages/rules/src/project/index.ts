export {
  DEFAULT_PROJECT_NAME,
  MAX_PROJECT_NAME_LENGTH,
  PROJECT_NAMESPACE,
  projectId,
  projectNameOf,
  projectOfRun,
  withSessionId,
} from "./project-id.js";
export type { ProjectFields } from "./project-id.js";
