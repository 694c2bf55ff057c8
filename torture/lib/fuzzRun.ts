import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Child } from './children.js';
import { dedupeKey } from './figures.js';
import type { SessionEnv } from './session.js';

const SILENCE_MS = 30_000;
/** Heap limit of the fuzz process: a decoder that allocates what a length field claims dies here. */
const HEAP_MB = 1024;

/**
 * Runs the bad-input fuzz (children/fuzz.ts) for `budgetMs`, or one case,
 * watching it from outside: a case that runs for more than 30 s is a hang,
 * a crash (out of memory included) names the case it happened in. Repeated
 * reports of one bug are counted, not listed again.
 */
export async function runFuzz(env: SessionEnv, budgetMs: number, onlyCase?: number): Promise<void> {
  const { figures } = env;
  const scratch = join(env.workDir, 'fuzz');
  mkdirSync(scratch, { recursive: true });
  const replayCase = (n: string): string => `${env.command} --seed ${env.seed} --fuzz-case ${n}`;
  let lastCase = 'setup';
  let lastCaseNo = '0';
  let lastLine = performance.now();
  let done = false;
  const seen = new Set<string>();
  const child = new Child(
    'fuzz.ts',
    { seed: env.seed, budgetMs, scratch, ...(onlyCase !== undefined ? { onlyCase } : {}) },
    (line) => {
      lastLine = performance.now();
      const [tag, n, ...rest] = line.split(' ');
      if (tag === 'case') {
        lastCaseNo = n!;
        lastCase = `case ${n} (${rest.join(' ')})`;
      } else if (tag === 'bad') {
        const text = rest.join(' ');
        const key = `${rest[0] ?? ''}:${dedupeKey(text)}`;
        figures.count('fuzz.violations (all reports)');
        if (seen.has(key)) return;
        seen.add(key);
        figures.violation('fuzz', replayCase(n!), text);
      } else if (tag === 'note') {
        figures.note([n, ...rest].join(' '));
      } else if (tag === 'done') {
        done = true;
        const counts = JSON.parse([n, ...rest].join(' ')) as Record<string, number>;
        for (const [k, v] of Object.entries(counts)) figures.count(`fuzz.${k}`, v);
      }
    },
    { execArgv: [`--max-old-space-size=${HEAP_MB}`] },
  );
  const watchdog = setInterval(() => {
    if (performance.now() - lastLine > SILENCE_MS) {
      figures.violation('fuzz', replayCase(lastCaseNo), `hang: no progress for ${SILENCE_MS / 1000} s in ${lastCase}`);
      lastLine = Number.POSITIVE_INFINITY;
      child.kill('SIGKILL');
    }
  }, 1000);
  const exit = await child.exited;
  clearInterval(watchdog);
  if (!done && lastLine !== Number.POSITIVE_INFINITY && !env.timeUp()) {
    figures.violation('fuzz', replayCase(lastCaseNo), `the fuzz process died (${exit.signal ?? `exit ${exit.code}`}) in ${lastCase}: ${child.stderr.trim().split('\n').slice(-6).join(' | ')}`);
  }
}
