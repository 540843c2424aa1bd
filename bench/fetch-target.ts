/**
 * The local HTTP server the gated fetch figures fetch from (bench/run.ts, bench/micro.ts, the floors in
 * bench/pipe-floor.ts): a small JSON body on 127.0.0.1, served by a process of its own. `origin` is what a
 * bench package's grant names; `url` is what the tool fetches.
 *
 * Its own process, so that every fetch the bench measures crosses to another process as a real one does:
 * the plain server's, mcp-warden's host's, the design's floor and the tool alone in Node. Served from the
 * bench process itself (as until the twelfth pass of issue 14), the floor and the tool alone in Node, which
 * run in that process, answered their own requests on their own event loop, with no wake-up of another
 * process, while the two servers paid one each way: the floor's least ratio set the two against each other.
 *
 *   node bench/fetch-target.ts serve    the server alone: prints its port, stops when its stdin closes
 */
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FetchTarget {
  readonly origin: string;
  readonly url: string;
  close(): void;
}

export async function startFetchTarget(): Promise<FetchTarget> {
  const child = spawn(process.execPath, [import.meta.filename, 'serve'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (s: string) => {
      out += s;
      const nl = out.indexOf('\n');
      if (nl >= 0) resolve(Number(out.slice(0, nl)));
    });
    child.once('exit', (code) => reject(new Error(`the fetch target exited (${code}) before it listened`)));
  });
  const origin = `http://127.0.0.1:${port}`;
  return { origin, url: `${origin}/items`, close: () => child.stdin.end() };
}

if (process.argv[2] === 'serve' && import.meta.filename === process.argv[1]) {
  const server = createServer((_req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ items: Array.from({ length: 50 }, (_, i) => ({ i })) }));
  });
  server.listen(0, '127.0.0.1', () => process.stdout.write(`${(server.address() as AddressInfo).port}\n`));
  // The bench ended (or died): so does this server.
  process.stdin.on('end', () => process.exit(0));
  process.stdin.resume();
}
