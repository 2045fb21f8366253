-- mapsnap region rows (schema mapsnap.row/1, formats/README.md) in ClickHouse.
-- The columns are exactly the members of `mapsnap convert --to ndjson`,
-- in the same order, so the rows load with no setting:
--   mapsnap convert --to ndjson DIR/ |
--     clickhouse-client --query "INSERT INTO mapsnap_regions FORMAT JSONEachRow"
-- Types that ClickHouse 18.16 (Debian 12) has: DateTime of whole seconds
-- (no DateTime64; captured_at_ms keeps the milliseconds), no
-- LowCardinality, no Map.
CREATE TABLE IF NOT EXISTS mapsnap_regions
(
    schema String,
    host String,
    boot_id String,
    pid UInt32,
    start_time UInt64,
    comm String,
    exe String,
    captured_at DateTime,
    captured_at_ms UInt64,
    kind String,
    evidence String,
    key String,
    lib String,
    image Int32,
    path String,
    deleted UInt8,
    perms String,
    start UInt64,
    end UInt64,
    offset UInt64,
    dev String,
    inode UInt64,
    build_id Nullable(String),
    Size UInt64,
    KernelPageSize UInt64,
    MMUPageSize UInt64,
    Rss UInt64,
    Pss UInt64,
    Pss_Dirty UInt64,
    Shared_Clean UInt64,
    Shared_Dirty UInt64,
    Private_Clean UInt64,
    Private_Dirty UInt64,
    Referenced UInt64,
    Anonymous UInt64,
    KSM UInt64,
    LazyFree UInt64,
    AnonHugePages UInt64,
    ShmemPmdMapped UInt64,
    FilePmdMapped UInt64,
    Shared_Hugetlb UInt64,
    Private_Hugetlb UInt64,
    Swap UInt64,
    SwapPss UInt64,
    Locked UInt64,
    THPeligible UInt64,
    ProtectionKey UInt64,
    VmFlags Array(String),
    extra_names Array(String),
    extra_values Array(UInt64)
)
ENGINE = MergeTree
PARTITION BY toDate(captured_at)
-- The fleet questions select by kind and library first (which hosts load
-- libssl twice, which library's dirty memory grew), then by host and time.
ORDER BY (kind, lib, host, captured_at, pid, start);
