SELECT export_generation, checksum FROM `acme-inventory.kollect.kollect_exports`
WHERE cluster = @cluster AND inventory_kind = @inventory_kind AND inventory_namespace = @inventory_namespace
  AND inventory_name = @inventory_name AND sink = @sink
ORDER BY export_generation DESC
LIMIT 1

BEGIN TRANSACTION;
DELETE FROM `acme-inventory.kollect.inventory` AS T WHERE T.cluster = @cluster AND T.inventory_namespace = @inventory_namespace AND T.inventory_name = @inventory_name;
DELETE FROM `acme-inventory.kollect.kollect_exports` AS E WHERE E.cluster = @cluster AND E.inventory_kind = @inventory_kind AND E.inventory_namespace = @inventory_namespace AND E.inventory_name = @inventory_name AND E.sink = @sink;
COMMIT TRANSACTION;
