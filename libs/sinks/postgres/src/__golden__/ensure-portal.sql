CREATE SCHEMA IF NOT EXISTS "kollect";

CREATE TABLE IF NOT EXISTS "kollect"."Inventory" (
  inventory_namespace TEXT NOT NULL,
  inventory_name TEXT NOT NULL,
  target_name TEXT NOT NULL,
  source_uid TEXT NOT NULL,
  cluster TEXT NOT NULL DEFAULT '',
  resource_namespace TEXT NOT NULL DEFAULT '',
  payload JSONB NOT NULL,
  exported_at TIMESTAMPTZ NOT NULL,
  target_namespace TEXT NOT NULL DEFAULT '',
  CONSTRAINT "Inventory_pkey" PRIMARY KEY (cluster, inventory_namespace, inventory_name, target_namespace, target_name, source_uid)
);

CREATE TABLE IF NOT EXISTS "kollect"."kollect_exports" (
  cluster TEXT NOT NULL,
  inventory_kind TEXT NOT NULL,
  inventory_namespace TEXT NOT NULL,
  inventory_name TEXT NOT NULL,
  sink TEXT NOT NULL,
  export_generation BIGINT NOT NULL,
  checksum TEXT NOT NULL,
  item_count INTEGER NOT NULL,
  exported_at TIMESTAMPTZ NOT NULL,
  PRIMARY KEY (cluster, inventory_kind, inventory_namespace, inventory_name, sink)
);

CREATE INDEX IF NOT EXISTS "Inventory_kind_idx" ON "kollect"."Inventory" ((payload->>'kind'));

CREATE INDEX IF NOT EXISTS "Inventory_resource_namespace_idx" ON "kollect"."Inventory" (resource_namespace);

CREATE INDEX IF NOT EXISTS "Inventory_payload_gin" ON "kollect"."Inventory" USING gin (payload jsonb_path_ops);

CREATE OR REPLACE VIEW "kollect"."Inventory_images" AS
SELECT r.cluster, r.inventory_namespace, r.inventory_name, r.resource_namespace,
       r.payload->>'kind' AS kind, r.payload->>'name' AS name, r.source_uid, i.image
FROM "kollect"."Inventory" r
CROSS JOIN LATERAL (
  SELECT jsonb_array_elements_text(r.payload->'attributes'->'images') AS image
  WHERE jsonb_typeof(r.payload->'attributes'->'images') = 'array'
  UNION
  SELECT r.payload->'attributes'->>'image'
  WHERE jsonb_typeof(r.payload->'attributes'->'image') = 'string'
) i;

CREATE OR REPLACE VIEW "kollect"."Inventory_objects_per_team" AS
SELECT r.cluster,
       COALESCE(NULLIF(r.payload->'attributes'->>'team', ''), r.resource_namespace) AS team,
       r.payload->>'kind' AS kind,
       count(*) AS objects
FROM "kollect"."Inventory" r
GROUP BY 1, 2, 3;
