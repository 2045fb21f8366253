-- Which libraries' private dirty memory grew across the fleet over the
-- last week: per process, its Private_Dirty in each library (segments and
-- .bss) in its last snapshot minus its first, summed per library.
SELECT lib,
       sum(last_kb - first_kb) AS growth_kb,
       uniqExact(host) AS hosts,
       count() AS processes
FROM
(
    SELECT host, boot_id, pid, start_time, lib,
           argMin(dirty_kb, at) AS first_kb, argMax(dirty_kb, at) AS last_kb
    FROM
    (
        SELECT host, boot_id, pid, start_time, lib, captured_at_ms AS at,
               sum(Private_Dirty) AS dirty_kb
        FROM mapsnap_regions_all
        WHERE lib != '' AND captured_at >= now() - INTERVAL 7 DAY
        GROUP BY host, boot_id, pid, start_time, lib, at
    )
    GROUP BY host, boot_id, pid, start_time, lib
)
GROUP BY lib
HAVING growth_kb != 0
ORDER BY growth_kb DESC
LIMIT 10
