-- Tracing projects (LangSmith's "sessions"). A project's id is derived from (tenant, name)
-- (packages/rules/src/project/project-id.ts); ingest records a project the first time it takes a run
-- of it, and the SDKs' POST /sessions creates one.
CREATE TABLE projects (
  id uuid PRIMARY KEY,
  tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  name text NOT NULL,
  description text,
  extra jsonb,
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, name)
);

-- Listing a tenant's projects, newest first.
CREATE INDEX projects_tenant_created_idx ON projects (tenant_id, created_at DESC, id);
