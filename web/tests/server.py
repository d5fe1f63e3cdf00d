"""Starts `suanli web --port 0` for a test and stops it after."""
import os
import re
import subprocess
import threading

BIN = os.environ.get("SUANLI_BIN", "")


class Server:
    def __init__(self, *flags):
        self.proc = subprocess.Popen([BIN, "web", "--port", "0", *flags], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, text=True)
        self.log = []
        line = ""
        while True:
            line = self.proc.stderr.readline()
            if not line:
                raise RuntimeError("suanli web ended: " + "".join(self.log))
            self.log.append(line)
            m = re.search(r"listening on http://([^/]+)/", line)
            if m:
                break
        self.host = m.group(1)
        self.url = f"http://{self.host}"
        self.port = int(self.host.rsplit(":", 1)[1])
        threading.Thread(target=self._drain, daemon=True).start()

    def _drain(self):
        for line in self.proc.stderr:
            self.log.append(line)

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
