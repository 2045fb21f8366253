"""A Python workload for tests/test_realworld.c: threads, big allocations,
libraries loaded through ctypes, small allocations in threads.

    python3 workload.py

Starts THREADS threads that each make many small allocations (above
pymalloc's 512 bytes, so glibc's malloc serves them from a per-thread
arena) and then block in read(2) on a pipe nobody writes; makes BIG
bytearrays of BIG_MIB (above glibc's mmap threshold: each its own
mapping, every page written); loads libz (which python3 may link
already) and libuuid (which it does not) through ctypes.
Prints "ready <pid>" when all threads have allocated, then reads one
command per line:

    alloc MIB     another bytearray of MIB MiB, written: "ok"
    spin          start a thread that hashes without the GIL, never
                  blocking (its stack pointer cannot be read): "ok"
    stop          end that thread and join it: its stack goes to
                  glibc's cache of exited threads' stacks: "ok"
    dlmopen NAME  load library NAME again, into a new link-map namespace
                  (a second load of the same file): "ok"

It exits when stdin closes.
"""
import ctypes
import ctypes.util
import hashlib
import os
import sys
import threading

THREADS = 4
BIG = 3
BIG_MIB = 96
SMALL = 2000
SMALL_BYTES = 3000

blocker, _never_written = os.pipe()
allocated = threading.Barrier(THREADS + 1)
kept = []


def work():
    kept.append([bytes(SMALL_BYTES) for _ in range(SMALL)])
    allocated.wait()
    os.read(blocker, 1)


spinning = threading.Event()
spinner = None


def spin():
    data = bytes(1 << 20)
    spinning.set()
    while spinning.is_set():
        hashlib.sha256(data).digest()


def load(name):
    path = ctypes.util.find_library(name)
    if not path:
        sys.exit("workload.py: no library %s" % name)
    return ctypes.CDLL(path)


def main():
    global spinner
    libz = load("z")
    libz.zlibVersion.restype = ctypes.c_char_p
    libz.zlibVersion()
    uuid = ctypes.create_string_buffer(16)
    load("uuid").uuid_generate_random(uuid)
    for _ in range(BIG):
        kept.append(bytearray(BIG_MIB << 20))
    for _ in range(THREADS):
        threading.Thread(target=work, daemon=True).start()
    allocated.wait()
    print("ready", os.getpid(), flush=True)
    for line in sys.stdin:
        words = line.split()
        if len(words) == 2 and words[0] == "alloc":
            kept.append(bytearray(int(words[1]) << 20))
            print("ok", flush=True)
        elif words == ["spin"] and not spinner:
            spinner = threading.Thread(target=spin, daemon=True)
            spinner.start()
            spinning.wait()
            print("ok", flush=True)
        elif words == ["stop"] and spinner:
            spinning.clear()
            spinner.join()
            spinner = None
            print("ok", flush=True)
        elif len(words) == 2 and words[0] == "dlmopen":
            libc = ctypes.CDLL(None)
            libc.dlmopen.restype = ctypes.c_void_p
            libc.dlmopen.argtypes = [ctypes.c_long, ctypes.c_char_p, ctypes.c_int]
            path = ctypes.util.find_library(words[1]).encode()
            new_namespace, now = -1, 2
            if libc.dlmopen(new_namespace, path, now):
                print("ok", flush=True)
            else:
                print("error dlmopen", path, flush=True)
        else:
            print("error unknown command", line.strip(), flush=True)


main()
