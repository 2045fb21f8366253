import subprocess, signal, sys, time, os
W, P = sys.argv[1], sys.argv[2]
def pre():
    for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, signal.SIG_DFL)
for delay in (0.01, 0.03, 0.05, 0.08, 0.12):
    p = subprocess.Popen([W, 'capture', P, '--every', '10ms', '-o', 's3.json', '-f'], preexec_fn=pre, stderr=subprocess.PIPE, stdout=subprocess.PIPE)
    time.sleep(delay); t=time.time(); p.send_signal(signal.SIGINT)
    out, err = p.communicate(); print(delay, "%.3f" % (time.time()-t), p.returncode, out, err)
