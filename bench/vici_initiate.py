#!/usr/bin/env python3
"""Times strongSwan's initiate -> CHILD_SA established over vici.

Sends charon the same vici request that `swanctl --initiate --child NAME`
sends ("initiate" with a timeout, so charon answers only once the CHILD_SA is
established or has failed) and times it from the request to the answer, on a
connection opened beforehand: swanctl's own process start is not charged to
strongSwan. Between runs the IKE_SA is terminated ("terminate", also waited
for) and both charons are asked ("list-sas") until neither has an SA left, so
every run is a full IKE_SA_INIT + IKE_AUTH.

  vici_initiate.py --initiator SOCKET --responder SOCKET --child NAME
                   [--runs 20] [--warmup 1] [--out FILE]

Prints one latency in microseconds per line (to FILE with --out). Only the
Python standard library: Debian 12 has no package of strongSwan's vici module.
"""
import argparse
import socket
import struct
import sys
import time

# Packet types and message elements of the vici protocol (strongSwan's
# src/libcharon/plugins/vici/README.md).
CMD_REQUEST, CMD_RESPONSE, CMD_UNKNOWN = 0, 1, 2
EVENT_REGISTER, EVENT_UNREGISTER, EVENT_CONFIRM, EVENT_UNKNOWN, EVENT = 3, 4, 5, 6, 7
SECTION_START, SECTION_END, KEY_VALUE, LIST_START, LIST_ITEM, LIST_END = 1, 2, 3, 4, 5, 6


class ViciError(Exception):
    pass


def encode(msg):
    out = bytearray()
    for key, value in msg.items():
        k = key.encode()
        if isinstance(value, dict):
            out += bytes([SECTION_START, len(k)]) + k + encode(value) + bytes([SECTION_END])
        else:
            v = str(value).encode()
            out += bytes([KEY_VALUE, len(k)]) + k + struct.pack(">H", len(v)) + v
    return bytes(out)


def decode(data):
    stack = [{}]
    i = 0
    name = lambda: (data[i + 1:i + 1 + data[i]].decode(), i + 1 + data[i])
    current_list = None
    while i < len(data):
        t = data[i]
        i += 1
        if t == SECTION_START:
            key, i = name()
            stack[-1][key] = {}
            stack.append(stack[-1][key])
        elif t == SECTION_END:
            stack.pop()
        elif t == KEY_VALUE:
            key, i = name()
            (n,) = struct.unpack(">H", data[i:i + 2])
            stack[-1][key] = data[i + 2:i + 2 + n].decode(errors="replace")
            i += 2 + n
        elif t == LIST_START:
            key, i = name()
            current_list = stack[-1][key] = []
        elif t == LIST_ITEM:
            (n,) = struct.unpack(">H", data[i:i + 2])
            current_list.append(data[i + 2:i + 2 + n].decode(errors="replace"))
            i += 2 + n
        elif t == LIST_END:
            current_list = None
        else:
            raise ViciError(f"unknown message element {t}")
    return stack[0]


class Vici:
    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            self.sock.connect(path)
        except OSError as e:
            raise ViciError(f"cannot connect to {path}: {e.strerror}") from None

    def _send(self, ptype, name=None, msg=None):
        body = bytes([ptype])
        if name is not None:
            body += bytes([len(name)]) + name.encode()
        if msg is not None:
            body += encode(msg)
        self.sock.sendall(struct.pack(">I", len(body)) + body)

    def _recv_exact(self, n):
        buf = bytearray()
        while len(buf) < n:
            chunk = self.sock.recv(n - len(buf))
            if not chunk:
                raise ViciError("charon closed the vici connection")
            buf += chunk
        return bytes(buf)

    def _recv(self):
        (n,) = struct.unpack(">I", self._recv_exact(4))
        body = self._recv_exact(n)
        ptype = body[0]
        if ptype == EVENT:
            name = body[2:2 + body[1]].decode()
            return ptype, name, decode(body[2 + body[1]:])
        return ptype, None, decode(body[1:])

    def request(self, command, msg=None, events=None):
        """Sends a command; returns (response, [event messages])."""
        if events:
            self._send(EVENT_REGISTER, events)
            if self._recv()[0] != EVENT_CONFIRM:
                raise ViciError(f"charon refused the event {events}")
        self._send(CMD_REQUEST, command, msg or {})
        streamed = []
        while True:
            ptype, _, body = self._recv()
            if ptype == EVENT:
                streamed.append(body)
            elif ptype == CMD_RESPONSE:
                break
            elif ptype == CMD_UNKNOWN:
                raise ViciError(f"charon does not know the command {command}")
        if events:
            self._send(EVENT_UNREGISTER, events)
            self._recv()
        return body, streamed


def checked(vici, command, msg):
    reply, _ = vici.request(command, msg)
    if reply.get("success") != "yes":
        raise ViciError(f"{command} {msg}: {reply.get('errmsg', 'failed')}")


def wait_no_sas(vicis, deadline_s=5.0):
    end = time.monotonic() + deadline_s
    while True:
        left = [v for v in vicis if v.request("list-sas", {}, events="list-sa")[1]]
        if not left:
            return
        if time.monotonic() > end:
            raise ViciError("an SA outlived its termination by 5 s")
        time.sleep(0.01)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--initiator", required=True, help="vici socket of the initiating charon")
    p.add_argument("--responder", required=True, help="vici socket of the responding charon")
    p.add_argument("--child", required=True, help="CHILD_SA config (and IKE config) name")
    p.add_argument("--runs", type=int, default=20)
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--out", help="write the microseconds here instead of stdout")
    a = p.parse_args()
    try:
        initiator, responder = Vici(a.initiator), Vici(a.responder)
        wait_no_sas([initiator, responder])
        micros = []
        for run in range(a.warmup + a.runs):
            t0 = time.perf_counter()
            checked(initiator, "initiate", {"child": a.child, "timeout": 10000, "loglevel": -1})
            t1 = time.perf_counter()
            if run >= a.warmup:
                micros.append((t1 - t0) * 1e6)
            checked(initiator, "terminate", {"ike": a.child, "timeout": 10000, "loglevel": -1})
            wait_no_sas([initiator, responder])
    except ViciError as e:
        print(f"vici_initiate: {a.child}: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    text = "".join(f"{us:.1f}\n" for us in micros)
    if a.out:
        with open(a.out, "w") as f:
            f.write(text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
