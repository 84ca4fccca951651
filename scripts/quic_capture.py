#!/usr/bin/env python3
"""One QUIC conversation on loopback between aioquic's client and server, for one capture.

In: a scenario name and a directory holding `server.pem`/`server.key` and `ca.pem` (made by
scripts/make-quic-captures.sh). Out: the conversation on the wire (tcpdump, started by the
shell script, records it) and one line on stdout saying what happened; exit status 0 when the
scenario did what it is meant to (including a failed handshake for `fail`).

Client and server run in this one process (asyncio), talking over real UDP sockets on
127.0.0.1 or ::1. The application protocol is a tiny echo (ALPN `echo`, not a registered one):
the client opens one bidirectional stream, sends `hello\\n` and FIN, the server answers
`olleh\\n` and FIN, then the client closes the connection (CONNECTION_CLOSE, application
error 0 = no error). Each scenario uses fixed client ports (below Linux's ephemeral range), so
the capture filter can name exactly its own datagrams.

Scenarios (see tests/captures/README.md for what each capture shows):
  v1, v2, retry, split-hello, resume, 0rtt, fail, ipv6, port-4433
"""

import argparse
import asyncio
import sys

from aioquic.asyncio import QuicConnectionProtocol, connect, serve
from aioquic.quic.configuration import QuicConfiguration
from aioquic.quic.packet import QuicProtocolVersion
from aioquic.tls import SessionTicket

SERVER_NAME = "quic.test"
ALPN = "echo"
REQUEST = b"hello\n"
REPLY = b"olleh\n"

# scenario -> (server host, server port, first client port)
PLACES = {
    "v1": ("127.0.0.1", 443, 24501),
    "v2": ("127.0.0.1", 443, 24502),
    "retry": ("127.0.0.1", 443, 24503),
    "split-hello": ("127.0.0.1", 443, 24504),
    "resume": ("127.0.0.1", 443, 24505),  # and 24506 for the second connection
    "0rtt": ("127.0.0.1", 443, 24507),  # and 24508
    "fail": ("127.0.0.1", 443, 24509),
    "ipv6": ("::1", 443, 24510),
    "port-4433": ("127.0.0.1", 4433, 24511),
}


class TicketStore:
    """The server's session tickets, so that a second connection can resume (PSK, 0-RTT)."""

    def __init__(self):
        self.tickets = {}

    def add(self, ticket: SessionTicket) -> None:
        self.tickets[ticket.ticket] = ticket

    def pop(self, label: bytes):
        return self.tickets.pop(label, None)


def echo_handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """The server's side of a stream: read to FIN, answer, FIN."""

    async def run():
        data = await reader.read()
        writer.write(REPLY if data == REQUEST else b"?\n")
        writer.write_eof()

    asyncio.ensure_future(run())


def server_config(certs: str, alpn: list) -> QuicConfiguration:
    c = QuicConfiguration(is_client=False, alpn_protocols=alpn)
    c.load_cert_chain(f"{certs}/server.pem", f"{certs}/server.key")
    return c


def client_config(certs: str, alpn: list, **kw) -> QuicConfiguration:
    c = QuicConfiguration(
        is_client=True, alpn_protocols=alpn, server_name=SERVER_NAME, **kw
    )
    c.load_verify_locations(f"{certs}/ca.pem")
    return c


async def exchange(client, early: bool = False) -> bytes:
    """Sends the request on a new stream and returns the answer. With `early`, the request goes
    out before the handshake is complete (0-RTT, if the configuration has a ticket)."""
    reader, writer = await client.create_stream()
    writer.write(REQUEST)
    writer.write_eof()
    if early:
        client.transmit()
    return await asyncio.wait_for(reader.read(), 5)


async def one_connection(host, port, local_port, config, tickets=None, early=False):
    """One client connection: handshake, echo, close. Returns (reply, tickets received)."""
    got = []
    async with connect(
        host,
        port,
        configuration=config,
        session_ticket_handler=got.append,
        wait_connected=not early,
        local_port=local_port,
    ) as client:
        reply = await exchange(client, early=early)
        # Give the server's NewSessionTicket (sent after the handshake) time to arrive.
        await asyncio.sleep(0.2)
    return reply, got


async def run(scenario: str, certs: str) -> str:
    host, port, cport = PLACES[scenario]
    server_alpn = [ALPN]
    store = TicketStore()
    sconf = server_config(certs, server_alpn)
    if scenario == "v2":
        # The server accepts only v2; the client starts with v2 (no version negotiation).
        sconf.supported_versions = [QuicProtocolVersion.VERSION_2]
    server = await serve(
        host,
        port,
        configuration=sconf,
        stream_handler=echo_handler,
        session_ticket_fetcher=store.pop,
        session_ticket_handler=store.add,
        retry=(scenario == "retry"),
    )
    try:
        if scenario in ("v1", "retry", "ipv6", "port-4433"):
            reply, _ = await one_connection(
                host, port, cport, client_config(certs, [ALPN])
            )
            return f"{scenario}: reply {reply!r}"
        if scenario == "v2":
            conf = client_config(
                certs,
                [ALPN],
                original_version=QuicProtocolVersion.VERSION_2,
                supported_versions=[QuicProtocolVersion.VERSION_2],
            )
            reply, _ = await one_connection(host, port, cport, conf)
            return f"v2: reply {reply!r}"
        if scenario == "split-hello":
            # aioquic's quantum_readiness_test adds a 1200-byte transport parameter (0x0c37)
            # to the ClientHello, which then cannot fit in one Initial packet: its CRYPTO data
            # spans two client Initials, as a post-quantum key share's does.
            conf = client_config(certs, [ALPN, "h3", "doq"], quantum_readiness_test=True)
            reply, _ = await one_connection(host, port, cport, conf)
            return f"split-hello: reply {reply!r}"
        if scenario in ("resume", "0rtt"):
            reply1, got = await one_connection(
                host, port, cport, client_config(certs, [ALPN])
            )
            if not got:
                raise SystemExit(f"{scenario}: no session ticket from the first connection")
            conf = client_config(certs, [ALPN], session_ticket=got[-1])
            early = scenario == "0rtt"
            reply2, _ = await one_connection(host, port, cport + 1, conf, early=early)
            return f"{scenario}: replies {reply1!r} {reply2!r}"
        if scenario == "fail":
            # The client offers only h3, which the server does not speak: the server closes
            # the connection during the handshake with a CONNECTION_CLOSE carrying TLS alert
            # no_application_protocol (crypto error 0x178).
            try:
                await one_connection(host, port, cport, client_config(certs, ["h3"]))
            except ConnectionError as e:
                return f"fail: handshake failed as intended ({e!r})"
            raise SystemExit("fail: the handshake succeeded")
        raise SystemExit(f"unknown scenario {scenario}")
    finally:
        await asyncio.sleep(0.3)  # let the server's last datagrams out
        server.close()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("scenario", choices=sorted(PLACES))
    ap.add_argument("certs", help="directory with server.pem, server.key, ca.pem")
    args = ap.parse_args()
    print(asyncio.run(run(args.scenario, args.certs)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
