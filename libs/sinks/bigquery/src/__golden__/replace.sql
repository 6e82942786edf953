BEGIN TRANSACTION;
MERGE `acme-inventory.kollect.inventory` AS T
USING (SELECT r.op, r.target_namespace, r.target_name, r.source_uid, r.resource_namespace,
    IF(r.op = 'upsert', PARSE_JSON(r.payload), NULL) AS payload
  FROM UNNEST(@rows) AS r) AS S
ON T.cluster = @cluster AND T.inventory_namespace = @inventory_namespace AND T.inventory_name = @inventory_name
  AND IFNULL(T.target_namespace, '') = S.target_namespace AND T.target_name = S.target_name AND T.source_uid = S.source_uid
WHEN MATCHED THEN
  UPDATE SET payload = S.payload, exported_at = @exported_at, resource_namespace = S.resource_namespace, target_namespace = S.target_namespace
WHEN NOT MATCHED BY TARGET THEN
  INSERT (inventory_namespace, inventory_name, target_name, source_uid, cluster, resource_namespace, payload, exported_at, target_namespace)
  VALUES (@inventory_namespace, @inventory_name, S.target_name, S.source_uid, @cluster, S.resource_namespace, S.payload, @exported_at, S.target_namespace)
WHEN NOT MATCHED BY SOURCE AND T.cluster = @cluster AND T.inventory_namespace = @inventory_namespace AND T.inventory_name = @inventory_name THEN
  DELETE;
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
