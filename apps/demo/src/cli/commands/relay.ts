import { runRelay } from '@episteme/nats';
import { ProgressLine, UsageError } from '@episteme/wal/cli';
import { defineCommand, Exit } from '../command.js';

export const relayCommand = defineCommand({
  name: 'relay',
  summary: 'ship every commit of the journal into a NATS JetStream stream, exactly once (needs --nats and --stream)',
  positionals: [],
  flags: {
    stream: { type: 'string', value: 'name', description: 'the JetStream stream (or the global --nats-stream, env EPISTEME_NATS_STREAM)' },
    follow: { type: 'boolean', description: 'keep shipping new commits until interrupted (default: up to the head, then exit)' },
  },
  async run({ flags }, ctx) {
    const target = ctx.nats;
    if (target === undefined) throw new UsageError('relay needs a cluster: --nats <url,...> or EPISTEME_NATS');
    const stream = flags.stream ?? target.stream;
    if (stream === undefined) throw new UsageError('relay needs a stream: --stream <name> or EPISTEME_NATS_STREAM');
    const app = await ctx.open('read');
    const stop = new AbortController();
    const removeInterrupt = ctx.onInterrupt(() => stop.abort());
    const bar = ctx.stderrIsTTY && !ctx.json ? new ProgressLine((s) => ctx.err(s), `relay to ${stream}`, () => performance.now()) : undefined;
    try {
      const result = await runRelay(app.journal, {
        ...target.connect,
        stream,
        registry: app.registry,
        follow: flags.follow === true,
        signal: stop.signal,
        onProgress: (p) => bar?.update({ bytesDone: p.position, bytesTotal: p.head, segment: `${p.shipped} shipped, ${p.lagBytes} bytes behind, stream seq ${p.streamSeq}` }),
      });
      bar?.clear();
      if (ctx.json) await ctx.out(JSON.stringify({ stream, ...result }) + '\n');
      else await ctx.out(`shipped ${result.shipped} commit(s) to stream ${stream}: journal position ${result.position}, stream sequence ${result.streamSeq}${result.resyncs > 0 ? `, ${result.resyncs} resync(s)` : ''}\n`);
    } finally {
      bar?.clear();
      removeInterrupt();
      await app.close();
    }
    return Exit.Ok;
  },
});
