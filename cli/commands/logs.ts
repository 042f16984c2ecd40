import { Args, Flags } from '@oclif/core';
import { outputEvent } from '../../agent/rpc/protocol.js';
import { AgentError } from '../../transport/types.js';
import { BaseCommand, varFlags } from '../base-command.js';
import { openContainers } from '../container-target.js';
import { logEntry, type Emitted } from '../views/container-view.js';

export default class Logs extends BaseCommand {
  static override summary = "Print a container's logs.";
  static override description =
    'Entries written to stdout go to stdout, those written to stderr to stderr; with --json, one JSON object per line ({time, stream, data}) on stdout. With --follow, new entries are printed as they come until the container stops or Ctrl-C.';
  static override args = {
    address: Args.string({ description: 'The container, such as container.web, container.web[0] or container.web["a"].', required: true }),
  };
  static override flags = {
    ...varFlags,
    dir: Flags.directory({ description: 'Configuration directory.', default: '.' }),
    follow: Flags.boolean({ char: 'f', description: 'Keep printing new entries until the container stops (or Ctrl-C).', default: false }),
    tail: Flags.integer({ description: 'Only the last N entries.', min: 0 }),
  };
  static override examples = [
    '<%= config.bin %> logs container.web',
    '<%= config.bin %> logs container.web --tail 20 --follow',
    "<%= config.bin %> logs 'container.app[0]' --json",
  ];

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Logs);
    this.json = flags.json;
    const opened = await openContainers(flags.dir, this.varArgs(), [args.address], { unlimitedCalls: flags.follow });
    this.sources = opened.sources;
    const target = opened.targets[0];
    if (!opened.sessions || !target) {
      this.report(opened.diagnostics);
      this.exit(1);
    }
    const sessions = opened.sessions;
    let stopped = false;
    // Ctrl-C, or a reader gone (`| head`): end the stream by closing the session.
    const stop = (): void => {
      stopped = true;
      void sessions.close();
    };
    const onStdoutError = (e: NodeJS.ErrnoException): void => {
      if (e.code === 'EPIPE') stop();
    };
    process.once('SIGINT', stop);
    process.stdout.on('error', onStdoutError);
    const emit = (out: Emitted): void => {
      if (!stopped) (out.stream === 'stdout' ? process.stdout : process.stderr).write(out.text);
    };
    let code = 0;
    try {
      const session = await sessions.session(target.host);
      const r = await session.call(
        'container.logs',
        { id: target.id, follow: flags.follow, ...(flags.tail !== undefined ? { tail: flags.tail } : {}) },
        (_message, data) => {
          const e = outputEvent.safeParse(data);
          if (e.success) emit(logEntry(e.data, this.json));
        },
      );
      for (const e of r.entries) emit(logEntry(e, this.json));
    } catch (e) {
      if (!(e instanceof AgentError)) throw e;
      if (!stopped) {
        this.report([{ severity: 'error', code: e.code, summary: `Cannot read the logs of ${target.address}: ${e.message}`, address: target.address }]);
        code = 1;
      }
    } finally {
      process.off('SIGINT', stop);
      await sessions.close();
      process.stdout.off('error', onStdoutError);
    }
    this.exit(code);
  }
}
