-- The Distributed table over every shard's mapsnap_regions (mapsnap.sql,
-- created on each server first). The cluster is `mapsnap`, declared in
-- the servers' <remote_servers>; rename it here for another cluster.
-- The database '' lets each shard's replica name its own database
-- (<default_database> in the cluster declaration, else the server's
-- default). A host's rows go to one shard when inserted through this
-- table. Query it from any server of the cluster:
--   SELECT host, count() FROM mapsnap_regions_all GROUP BY host
CREATE TABLE IF NOT EXISTS mapsnap_regions_all AS mapsnap_regions
ENGINE = Distributed(mapsnap, '', mapsnap_regions, cityHash64(host));
