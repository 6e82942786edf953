CREATE SCHEMA IF NOT EXISTS "public";

CREATE TABLE IF NOT EXISTS "public"."inventory" (
  inventory_namespace TEXT NOT NULL,
  inventory_name TEXT NOT NULL,
  target_name TEXT NOT NULL,
  source_uid TEXT NOT NULL,
  cluster TEXT NOT NULL DEFAULT '',
  resource_namespace TEXT NOT NULL DEFAULT '',
  payload JSONB NOT NULL,
  exported_at TIMESTAMPTZ NOT NULL,
  target_namespace TEXT NOT NULL DEFAULT '',
  CONSTRAINT "inventory_pkey" PRIMARY KEY (cluster, inventory_namespace, inventory_name, target_namespace, target_name, source_uid)
);

CREATE TABLE IF NOT EXISTS "public"."kollect_exports" (
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
