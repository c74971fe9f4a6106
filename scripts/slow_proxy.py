#!/usr/bin/env python3
"""A TCP proxy for the fault suite's slow-store scenario (scripts/faults.sh).

    slow_proxy.py <listen port> <target port> <mode file>

Forwards 127.0.0.1:<listen port> to 127.0.0.1:<target port>. Before forwarding each chunk it
reads <mode file>: `pass` forwards at once, a number of milliseconds delays each chunk by that
much (each round trip then takes at least twice that), `hold` stops forwarding in both directions,
as a network that drops every packet does: TCP keeps the bytes, and they flow again, in order,
once the mode is `pass` again. Prints `ready` once it listens.
"""
import asyncio
import sys

listen_port, target_port, mode_file = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]


def mode():
    try:
        with open(mode_file) as f:
            return f.read().strip() or "pass"
    except OSError:
        return "pass"


async def pipe(reader, writer):
    try:
        while True:
            # Held: nothing is read, so the sender's bytes wait in the kernel's buffers.
            while mode() == "hold":
                await asyncio.sleep(0.05)
            data = await reader.read(65536)
            if not data:
                break
            current = mode()
            if current not in ("pass", "hold"):
                await asyncio.sleep(int(current) / 1000)
            while mode() == "hold":
                await asyncio.sleep(0.05)
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        writer.close()


async def handle(client_reader, client_writer):
    try:
        server_reader, server_writer = await asyncio.open_connection("127.0.0.1", target_port)
    except OSError:
        client_writer.close()
        return
    await asyncio.gather(pipe(client_reader, server_writer), pipe(server_reader, client_writer))


async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", listen_port)
    print("ready", flush=True)
    async with server:
        await server.serve_forever()


asyncio.run(main())
