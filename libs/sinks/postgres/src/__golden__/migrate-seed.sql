ALTER TABLE "public"."inventory" ADD COLUMN target_namespace TEXT NOT NULL DEFAULT '';
UPDATE "public"."inventory" SET target_namespace = COALESCE(payload->>'targetNamespace', '') WHERE target_namespace = '';
ALTER TABLE "public"."inventory" DROP CONSTRAINT "inventory_pkey";
ALTER TABLE "public"."inventory" ADD CONSTRAINT "inventory_pkey" PRIMARY KEY (cluster, inventory_namespace, inventory_name, target_namespace, target_name, source_uid);
