-- Hosts where one library (by name: libssl.so.3 and libssl.so.1.1 are
-- both libssl.so) is loaded from two files or two paths, in the last day.
-- files counts distinct (dev, inode): two builds, or copies of one;
-- builds counts distinct build-ids, where the capture read them.
SELECT host, lib,
       uniqExact(dev, inode) AS files,
       arraySort(groupUniqArray(replaceOne(path, ' (deleted)', ''))) AS paths,
       uniqExact(pid, start_time) AS processes,
       uniqExact(build_id) AS builds
FROM mapsnap_regions_all
WHERE kind = 'lib' AND offset = 0 AND captured_at >= now() - INTERVAL 1 DAY
GROUP BY host, lib
HAVING files > 1 OR length(paths) > 1 OR builds > 1
ORDER BY host, lib
