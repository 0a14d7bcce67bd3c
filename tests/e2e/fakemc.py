"""A scriptable stand-in for memcached: enough of the text protocol's set
command to test what the loader does when a server drops the connection,
rejects records, or answers nonsense. Real memcached cannot be made to do
these on cue. Listens on 127.0.0.1 only."""

import socket
import threading


class FakeMemcached:
    """policy(conn_no, seq, key) -> "STORED", "SERVER_ERROR ...", "DROP" (close
    the connection before answering) or any other bytes to send as the reply.
    conn_no counts connections from 1; seq counts sets on that connection."""

    def __init__(self, policy):
        self.policy = policy
        self.store = {}
        self.connections = 0
        self.replies = {}  # reply word -> how many were sent
        self.lock = threading.Lock()
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.addr = "127.0.0.1:%d" % self.sock.getsockname()[1]
        self.closing = False
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        while not self.closing:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with self.lock:
                self.connections += 1
                number = self.connections
            threading.Thread(target=self._serve, args=(conn, number), daemon=True).start()

    def _serve(self, conn, number):
        try:
            self._converse(conn, number)
        except OSError:
            pass  # the loader hung up: what it does then is what the tests check

    def _converse(self, conn, number):
        buf = b""
        seq = 0
        with conn:
            while True:
                while b"\r\n" not in buf:
                    data = conn.recv(65536)
                    if not data:
                        return
                    buf += data
                line, buf = buf.split(b"\r\n", 1)
                words = line.split()
                if len(words) != 5 or words[0] != b"set":
                    conn.sendall(b"ERROR\r\n")
                    continue
                size = int(words[4])
                while len(buf) < size + 2:
                    data = conn.recv(65536)
                    if not data:
                        return
                    buf += data
                value, buf = buf[:size], buf[size + 2:]
                seq += 1
                reply = self.policy(number, seq, words[1])
                if reply == "DROP":
                    conn.shutdown(socket.SHUT_RDWR)
                    return
                with self.lock:
                    if reply == "STORED":
                        self.store[words[1]] = value
                    word = reply.split()[0] if reply.split() else reply
                    self.replies[word] = self.replies.get(word, 0) + 1
                conn.sendall(reply.encode() + b"\r\n")

    def close(self):
        self.closing = True
        self.sock.close()
