import { Args, Errors, Flags } from '@oclif/core';
import { outputEvent } from '../../agent/rpc/protocol.js';
import { AgentError } from '../../transport/types.js';
import { BaseCommand, varFlags } from '../base-command.js';
import { openContainers } from '../container-target.js';
import { execOutput } from '../views/container-view.js';
import { parseEnvFlags, readPipedStdin, splitCommand } from '../exec-arguments.js';

export default class Exec extends BaseCommand {
  static override summary = 'Run a command inside a running container.';
  static override description =
    "The command joins all the container's namespaces and its cgroup. Its output streams to this command's stdout and stderr, and tsinfra exits with the command's exit code. When stdin is not a terminal it is read to the end and given to the command as its input (text; --no-stdin to leave it alone).";
  static override args = {
    address: Args.string({ description: 'The container, such as container.web or container.web[0].', required: true }),
  };
  static override strict = false;
  static override flags = {
    ...varFlags,
    dir: Flags.directory({ description: 'Configuration directory.', default: '.' }),
    env: Flags.string({ char: 'e', description: 'Set an environment variable: --env NAME=VALUE (repeatable).', multiple: true, multipleNonGreedy: true }),
    user: Flags.string({ char: 'u', description: "Run as this user: uid, uid:gid, name or name:group. Default: the container's user." }),
    workdir: Flags.string({ char: 'w', description: "Working directory inside the container. Default: the container's." }),
    stdin: Flags.boolean({ description: 'Give piped input to the command (--no-stdin: leave stdin alone).', default: true, allowNo: true }),
  };
  static override usage = 'exec ADDRESS [--env NAME=VALUE]... [--user USER] [--workdir DIR] -- COMMAND [ARGS...]';
  static override examples = [
    '<%= config.bin %> exec container.web -- cat /etc/hostname',
    "<%= config.bin %> exec container.db --env PGUSER=app -- psql -c 'select 1'",
  ];

  /** Everything after `--` is the command, verbatim: flag normalisation must not touch it. */
  private commandArgv: string[] | undefined;

  override async init(): Promise<void> {
    const split = splitCommand(this.argv);
    this.commandArgv = split.command;
    this.argv = split.own;
    await super.init();
  }

  async run(): Promise<void> {
    const { args, flags, argv } = await this.parse(Exec);
    this.json = flags.json;
    const command = this.commandArgv;
    if (!command || command.length === 0) {
      throw new Errors.CLIError(`put the command to run after --: tsinfra ${Exec.usage}`, { exit: 1 });
    }
    if (argv.length > 1) throw new Errors.CLIError(`unexpected argument ${String(argv[1])} before --: tsinfra ${Exec.usage}`, { exit: 1 });
    const env = parseEnvFlags(flags.env ?? []);
    if (typeof env === 'string') throw new Errors.CLIError(env, { exit: 1 });

    const opened = await openContainers(flags.dir, this.varArgs(), [args.address], { unlimitedCalls: true });
    this.sources = opened.sources;
    const target = opened.targets[0];
    if (!opened.sessions || !target) {
      this.report(opened.diagnostics);
      this.exit(1);
    }
    const sessions = opened.sessions;
    const stdin = flags.stdin ? await readPipedStdin(process.stdin) : undefined;
    let interrupted = false;
    const onSigint = (): void => {
      interrupted = true;
      void sessions.close();
    };
    process.once('SIGINT', onSigint);
    let code: number;
    try {
      const session = await sessions.session(target.host);
      const r = await session.call(
        'container.exec',
        {
          id: target.id,
          command,
          ...(Object.keys(env).length ? { env } : {}),
          ...(flags.user !== undefined ? { user: flags.user } : {}),
          ...(flags.workdir !== undefined ? { working_dir: flags.workdir } : {}),
          ...(stdin !== undefined ? { stdin } : {}),
        },
        (_message, data) => {
          const e = outputEvent.safeParse(data);
          if (!e.success) return;
          const out = execOutput(e.data);
          (out.stream === 'stdout' ? process.stdout : process.stderr).write(out.text);
        },
      );
      code = r.exit_code;
    } catch (e) {
      if (!(e instanceof AgentError)) throw e;
      // As a shell reports a command ended by SIGINT.
      if (interrupted) code = 130;
      else {
        this.report([{ severity: 'error', code: e.code, summary: `Cannot run ${command[0]!} in ${target.address}: ${e.message}`, address: target.address }]);
        code = 1;
      }
    } finally {
      process.off('SIGINT', onSigint);
      await sessions.close();
    }
    this.exit(code);
  }
}
