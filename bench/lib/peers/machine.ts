import { execFileSync } from 'node:child_process';
import { readFileSync, realpathSync } from 'node:fs';
import { cpus, release, tmpdir, totalmem } from 'node:os';

/** What the report says about the machine: the figures only mean something next to it. */
export interface Machine {
  cpuModel: string;
  cpus: number;
  memoryGiB: number;
  node: string;
  kernel: string;
  /** Where the temp directories live, and on what. */
  tempDir: string;
  filesystem: string;
  device: string;
  mountOptions: string;
}

function cpuModel(): string {
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (m) return m[1]!.trim();
  } catch {
    // not Linux
  }
  return cpus()[0]?.model ?? 'unknown';
}

/** The mount that holds `path`: the longest mount point that is a prefix of it (/proc/mounts), else `df -T`. */
function mountOf(path: string): { filesystem: string; device: string; mountOptions: string } {
  try {
    let best: { point: string; filesystem: string; device: string; mountOptions: string } | undefined;
    for (const line of readFileSync('/proc/mounts', 'utf8').split('\n')) {
      const [device, point, filesystem, mountOptions] = line.split(' ');
      if (!device || !point || !filesystem) continue;
      const inside = point === '/' || path === point || path.startsWith(`${point}/`);
      if (inside && (!best || point.length >= best.point.length)) best = { point, filesystem, device, mountOptions: mountOptions ?? '' };
    }
    if (best) return best;
  } catch {
    // fall through to df
  }
  try {
    const out = execFileSync('df', ['-T', path], { encoding: 'utf8' }).trim().split('\n');
    const cols = (out[1] ?? '').split(/\s+/);
    return { filesystem: cols[1] ?? 'unknown', device: cols[0] ?? 'unknown', mountOptions: '' };
  } catch {
    return { filesystem: 'unknown', device: 'unknown', mountOptions: '' };
  }
}

export function describeMachine(): Machine {
  const tempDir = realpathSync(tmpdir());
  return {
    cpuModel: cpuModel(),
    cpus: cpus().length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    kernel: `${process.platform} ${release()}`,
    tempDir,
    ...mountOf(tempDir),
  };
}
