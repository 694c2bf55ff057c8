import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A real JetStream cluster on loopback for tests and benchmarks: `nats-server`
 * processes with free ports and a temp store directory each, stopped by pid.
 * Every server this module starts is SIGKILLed when the process exits, so a
 * failed test never leaves one behind.
 */

export interface TestClusterOptions {
  /** Number of servers (3 for a replicated cluster). */
  nodes?: number;
  /** Extra lines put into every server's configuration (an `authorization` block, ...). */
  extraConfig?: string;
  /** Milliseconds to wait until every server reports JetStream healthy. */
  readyTimeoutMs?: number;
}

export interface TestNode {
  readonly name: string;
  readonly clientPort: number;
  readonly httpPort: number;
  readonly clusterPort: number;
  readonly storeDir: string;
  readonly configFile: string;
  /** The running process, undefined while killed or stopped. */
  process: ChildProcess | undefined;
}

const INSTALL_HINT = 'nats-server is not installed (Debian: apt-get install -y nats-server); the NATS tests need it';

/** The nats-server command, or undefined when it is not installed. */
export function natsServerCommand(): string | undefined {
  const found = spawnSync('sh', ['-c', 'command -v nats-server'], { encoding: 'utf8' });
  const path = found.stdout.trim();
  return found.status === 0 && path !== '' ? path : undefined;
}

/** Why the NATS tests cannot run here, or undefined when they can. CI sets CI=1 and must not skip. */
export function natsSkipReason(): string | undefined {
  if (natsServerCommand() !== undefined) return undefined;
  if (process.env.CI) throw new Error(INSTALL_HINT);
  return INSTALL_HINT;
}

const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export class TestCluster {
  readonly nodes: TestNode[];
  private readonly root: string;
  private stopped = false;
  /** The tail of each server's log, for the error when one exits at start. */
  private readonly logs = new Map<ChildProcess, () => string>();

  private constructor(root: string, nodes: TestNode[]) {
    this.root = root;
    this.nodes = nodes;
  }

  /** Starts the servers and resolves once each one reports JetStream healthy. */
  static async start(options: TestClusterOptions = {}): Promise<TestCluster> {
    const command = natsServerCommand();
    if (command === undefined) throw new Error(INSTALL_HINT);
    const count = options.nodes ?? 3;
    const root = mkdtempSync(join(tmpdir(), 'episteme-nats-'));
    const ports: number[] = [];
    while (ports.length < count * 3) {
      const port = await freePort();
      if (!ports.includes(port)) ports.push(port);
    }
    const nodes: TestNode[] = [];
    for (let i = 0; i < count; i++) {
      const name = `n${i + 1}`;
      const node: TestNode = {
        name,
        clientPort: ports[i * 3]!,
        httpPort: ports[i * 3 + 1]!,
        clusterPort: ports[i * 3 + 2]!,
        storeDir: join(root, name),
        configFile: join(root, `${name}.conf`),
        process: undefined,
      };
      nodes.push(node);
    }
    const routes = nodes.map((n) => `nats-route://127.0.0.1:${n.clusterPort}`).join(', ');
    for (const node of nodes) {
      const cluster = count > 1 ? `cluster { name: episteme-test, listen: 127.0.0.1:${node.clusterPort}, routes: [${routes}] }` : '';
      writeFileSync(
        node.configFile,
        [
          `server_name: ${node.name}`,
          `listen: 127.0.0.1:${node.clientPort}`,
          `http: 127.0.0.1:${node.httpPort}`,
          `jetstream { store_dir: "${node.storeDir}", max_memory_store: 64MB, max_file_store: 2GB }`,
          cluster,
          options.extraConfig ?? '',
        ].join('\n'),
      );
    }
    const cluster = new TestCluster(root, nodes);
    try {
      for (const node of nodes) cluster.launch(node, command);
      await cluster.waitHealthy(options.readyTimeoutMs ?? 30_000);
    } catch (error) {
      await cluster.stop();
      throw error;
    }
    return cluster;
  }

  /** Client URLs of every server (killed ones included: a client skips them). */
  get servers(): string[] {
    return this.nodes.map((n) => `nats://127.0.0.1:${n.clientPort}`);
  }

  node(name: string): TestNode {
    const node = this.nodes.find((n) => n.name === name);
    if (node === undefined) throw new Error(`no server named ${name} in this cluster`);
    return node;
  }

  /** SIGKILLs one server and waits until its process is gone. */
  async kill(name: string): Promise<void> {
    const node = this.node(name);
    const child = node.process;
    if (child === undefined) return;
    node.process = undefined;
    await this.terminate(child, 'SIGKILL', 10_000);
  }

  /** Starts a killed server again on the same ports and store, and waits until the cluster is healthy. */
  async restart(name: string, readyTimeoutMs = 60_000): Promise<void> {
    const node = this.node(name);
    if (node.process !== undefined) return;
    const command = natsServerCommand();
    if (command === undefined) throw new Error(INSTALL_HINT);
    this.launch(node, command);
    await this.waitHealthy(readyTimeoutMs);
  }

  /** Stops every server by pid (SIGTERM, then SIGKILL after a grace period) and removes the store directories. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await Promise.all(
      this.nodes.map(async (node) => {
        const child = node.process;
        node.process = undefined;
        if (child !== undefined) await this.terminate(child, 'SIGTERM', 5_000);
      }),
    );
    rmSync(this.root, { recursive: true, force: true });
  }

  private launch(node: TestNode, command: string): void {
    const child = spawn(command, ['-c', node.configFile], { stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    child.stderr!.on('data', (chunk: Buffer) => {
      log = (log + chunk.toString()).slice(-4000);
    });
    child.once('exit', () => live.delete(child));
    this.logs.set(child, () => log);
    live.add(child);
    node.process = child;
  }

  private async terminate(child: ChildProcess, signal: NodeJS.Signals, graceMs: number): Promise<void> {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  }

  private async waitHealthy(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (const node of this.nodes) {
      if (node.process === undefined) continue;
      for (;;) {
        if (node.process.exitCode !== null) {
          const log = this.logs.get(node.process)?.() ?? '';
          throw new Error(`nats-server ${node.name} exited with ${node.process.exitCode}: ${log}`);
        }
        if (await isHealthy(node.httpPort)) break;
        if (Date.now() > deadline) throw new Error(`nats-server ${node.name} did not report JetStream healthy within ${timeoutMs} ms`);
        await sleep(50);
      }
    }
    // healthy servers may still be electing JetStream's meta leader; requests time out until one is
    if (this.nodes.length > 1) {
      const node = this.nodes.find((n) => n.process !== undefined)!;
      while (!(await hasMetaLeader(node.httpPort))) {
        if (Date.now() > deadline) throw new Error(`the cluster elected no JetStream meta leader within ${timeoutMs} ms`);
        await sleep(50);
      }
    }
  }
}

async function hasMetaLeader(httpPort: number): Promise<boolean> {
  try {
    const response = await fetch(`http://127.0.0.1:${httpPort}/jsz`, { signal: AbortSignal.timeout(2_000) });
    const body = (await response.json()) as { meta_cluster?: { leader?: string } };
    return typeof body.meta_cluster?.leader === 'string' && body.meta_cluster.leader !== '';
  } catch {
    return false;
  }
}

async function isHealthy(httpPort: number): Promise<boolean> {
  try {
    const response = await fetch(`http://127.0.0.1:${httpPort}/healthz?js-enabled-only=true`, { signal: AbortSignal.timeout(2_000) });
    return response.ok;
  } catch {
    return false;
  }
}
