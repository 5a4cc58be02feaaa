#!/ usr / bin / python3
"""A throwaway SMTP server for tests (Debian's python3-aiosmtpd).

Usage: smtp_sink.py PORT DIR. Listens on 127.0.0.1:PORT, prints "ready" once it does, and
keeps each message it accepts as DIR/NNNN.eml (written to a temporary name, then renamed).
While the file DIR/stall exists, it holds every RCPT TO unanswered (and writes DIR/holding),
so that a client can be killed in the middle of a delivery that the server has not accepted.
"""
import asyncio
import os
import sys

from aiosmtpd.controller import Controller


class Sink:
    def __init__(self, folder):
        self.folder = folder
        self.count = len([n for n in os.listdir(folder) if n.endswith(".eml")])

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        while os.path.exists(os.path.join(self.folder, "stall")):
            with open(os.path.join(self.folder, "holding"), "w") as flag:
                flag.write(address)
            await asyncio.sleep(0.05)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        path = os.path.join(self.folder, "%04d.eml" % self.count)
        with open(path + ".tmp", "wb") as out:
            out.write(envelope.original_content)
        os.rename(path + ".tmp", path)
        return "250 Message accepted"


def main():
    port, folder = int(sys.argv[1]), sys.argv[2]
    os.makedirs(folder, exist_ok=True)
    controller = Controller(Sink(folder), hostname="127.0.0.1", port=port)
    controller.start()
    print("ready", flush=True)
    try:
        sys.stdin.read()  # until the test closes our stdin (or dies)
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
