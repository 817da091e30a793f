-- Rollups of a pmacct-rs ClickHouse plugin table, the way Akvorado keeps its flows: summing
-- tables at 1 minute, 5 minutes and 1 hour, fed by materialized views, each with its own TTL.
--
-- Written for the example plugin `flows` (see README.md: table default.pmacct_flows, aggregate
-- src_host, dst_host, src_port, dst_port, proto, src_as, dst_as, in_iface, out_iface). The
-- rollups keep the low-cardinality dimensions dashboards group by and drop hosts and ports.
-- Lines ending in `-- ttl` are left out on servers without TTL (ClickHouse < 19.6, e.g.
-- Debian's 18.16); everything else runs on both.

CREATE MATERIALIZED VIEW IF NOT EXISTS default.pmacct_flows_1m
ENGINE = SummingMergeTree((packets, bytes, flows))
PARTITION BY toYYYYMMDD(stamp)
ORDER BY (stamp, as_src, as_dst, ip_proto, iface_in, iface_out)
TTL stamp + INTERVAL 7 DAY -- ttl
POPULATE AS
SELECT toStartOfMinute(stamp_inserted) AS stamp, as_src, as_dst, ip_proto, iface_in, iface_out,
       sum(packets) AS packets, sum(bytes) AS bytes, sum(flows) AS flows
FROM default.pmacct_flows
GROUP BY stamp, as_src, as_dst, ip_proto, iface_in, iface_out;

CREATE MATERIALIZED VIEW IF NOT EXISTS default.pmacct_flows_5m
ENGINE = SummingMergeTree((packets, bytes, flows))
PARTITION BY toYYYYMMDD(stamp)
ORDER BY (stamp, as_src, as_dst, ip_proto, iface_in, iface_out)
TTL stamp + INTERVAL 30 DAY -- ttl
POPULATE AS
SELECT toStartOfFiveMinute(stamp_inserted) AS stamp, as_src, as_dst, ip_proto, iface_in, iface_out,
       sum(packets) AS packets, sum(bytes) AS bytes, sum(flows) AS flows
FROM default.pmacct_flows
GROUP BY stamp, as_src, as_dst, ip_proto, iface_in, iface_out;

CREATE MATERIALIZED VIEW IF NOT EXISTS default.pmacct_flows_1h
ENGINE = SummingMergeTree((packets, bytes, flows))
PARTITION BY toYYYYMM(stamp)
ORDER BY (stamp, as_src, as_dst, ip_proto, iface_in, iface_out)
TTL stamp + INTERVAL 365 DAY -- ttl
POPULATE AS
SELECT toStartOfHour(stamp_inserted) AS stamp, as_src, as_dst, ip_proto, iface_in, iface_out,
       sum(packets) AS packets, sum(bytes) AS bytes, sum(flows) AS flows
FROM default.pmacct_flows
GROUP BY stamp, as_src, as_dst, ip_proto, iface_in, iface_out;
