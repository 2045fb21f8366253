-- Processes that map a library or program deleted or replaced on disk
-- (an upgrade they have not been restarted for), in the last day.
SELECT host, pid, comm,
       arraySort(groupUniqArray(replaceOne(path, ' (deleted)', ''))) AS deleted_files,
       max(captured_at) AS last_seen
FROM mapsnap_regions_all
WHERE deleted = 1 AND kind IN ('lib', 'exe') AND captured_at >= now() - INTERVAL 1 DAY
GROUP BY host, boot_id, pid, start_time, comm
ORDER BY host, pid
