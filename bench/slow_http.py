#!/usr/bin/python3
"""A local HTTP server whose every response takes 100 ms (the I/O an async task waits on).

Usage: /usr/bin/python3 bench/slow_http.py PORT [DELAY_SECONDS]
asyncio, HTTP/1.1 keep-alive, answers `ok` to any GET after DELAY (default 0.1 s); thousands of
connections at once. Prints `ready` on stdout once it listens.
"""
import asyncio
import resource
import sys


async def handle(reader, writer, delay):
    try:
        while True:
            head = await reader.readuntil(b'\r\n\r\n')
            if not head:
                break
            await asyncio.sleep(delay)
            close = b'connection: close' in head.lower()
            writer.write(b'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: text/plain\r\n'
                         + (b'Connection: close\r\n' if close else b'') + b'\r\nok')
            await writer.drain()
            if close:
                break
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


async def main(port, delay):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    server = await asyncio.start_server(lambda r, w: handle(r, w, delay), '127.0.0.1', port, backlog=4096)
    print('ready', flush=True)
    async with server:
        await server.serve_forever()


if __name__ == '__main__':
    asyncio.run(main(int(sys.argv[1]), float(sys.argv[2]) if len(sys.argv) > 2 else 0.1))
