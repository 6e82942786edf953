BEGIN TRANSACTION;
DELETE FROM `acme-inventory.kollect.inventory` AS T
WHERE T.cluster = @cluster AND T.inventory_namespace = @inventory_namespace AND T.inventory_name = @inventory_name AND T.exported_at != @exported_at;
MERGE `acme-inventory.kollect.kollect_exports` AS E
USING (SELECT @cluster AS cluster, @inventory_kind AS inventory_kind, @inventory_namespace AS inventory_namespace,
    @inventory_name AS inventory_name, @sink AS sink, @export_generation AS export_generation, @checksum AS checksum,
    @item_count AS item_count, @exported_at AS exported_at) AS S
ON E.cluster = S.cluster AND E.inventory_kind = S.inventory_kind AND E.inventory_namespace = S.inventory_namespace
  AND E.inventory_name = S.inventory_name AND E.sink = S.sink
WHEN MATCHED THEN
  UPDATE SET export_generation = S.export_generation, checksum = S.checksum, item_count = S.item_count, exported_at = S.exported_at
WHEN NOT MATCHED THEN
  INSERT ROW;
COMMIT TRANSACTION;
